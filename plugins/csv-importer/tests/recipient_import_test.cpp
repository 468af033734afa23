// recipient_import_test.cpp: the row rules, with the daemon's real validation
// (rules::normalizeEmail / checkHeaderValue) behind the Validator, as the host gives it.
// Each input is imported whole and in 1- and 3-byte chunks; the sink must see the same events.
#include "daemon_validator.h"
#include "recipient_import.h"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

#include "core/error.h"
#include "rules/validation.h"

namespace {

using namespace campaignd::csv;

// "row L email|name|S|g1,g2", "error L reason", "progress R B".
struct Events final : RowSink {
    std::vector<std::string> events;
    std::size_t stopAfterRows = 0;  // throw Stopped(CANCELLED) from progress once this many rows
    void row(const Row& r) override {
        std::string groups;
        for (std::size_t i = 0; i < r.groupCount; ++i) groups += (i ? "," : "") + std::string(r.groups[i]);
        events.push_back("row " + std::to_string(r.line) + " " + r.email + "|" + r.name + "|" +
                         std::to_string(static_cast<int>(r.subscription)) + "|" + groups);
    }
    void rowError(std::uint64_t line, const std::string& reason) override {
        events.push_back("error " + std::to_string(line) + " " + reason);
    }
    void progress(std::uint64_t rows, std::uint64_t bytes) override {
        events.push_back("progress " + std::to_string(rows) + " " + std::to_string(bytes));
        if (stopAfterRows != 0 && rows >= stopAfterRows) throw Stopped(CAMPAIGND_ERR_CANCELLED, "cancelled by the test");
    }
};

struct Outcome {
    std::vector<std::string> events;
    std::string error;  // "structural: ...", "option: ...", "stopped N: ..."
    bool operator==(const Outcome&) const = default;
};

Outcome importChunked(std::string_view input, std::size_t chunk, const ImportSettings& settings,
                      std::size_t stopAfterRows) {
    DaemonValidator validator;
    Events sink;
    sink.stopAfterRows = stopAfterRows;
    Outcome out;
    try {
        RecipientImport import(settings, validator, sink);
        for (std::size_t at = 0; at < input.size(); at += chunk) import.feed(input.substr(at, chunk));
        import.finish();
    } catch (const StructuralError& e) {
        out.error = std::string("structural: ") + e.what();
    } catch (const OptionError& e) {
        out.error = std::string("option: ") + e.what();
    } catch (const Stopped& e) {
        out.error = "stopped " + std::to_string(e.status()) + ": " + e.what();
    }
    out.events = std::move(sink.events);
    return out;
}

// The expected events below leave out progress's byte counts; ProgressBytesAreWhereTheRowEnds
// checks them.
Outcome withoutBytes(Outcome o) {
    for (auto& e : o.events)
        if (e.starts_with("progress ")) e = e.substr(0, e.rfind(' '));
    return o;
}

Outcome import(std::string_view input, ImportSettings settings = {}, std::size_t stopAfterRows = 0) {
    const Outcome whole = importChunked(input, input.size() + 1, settings, stopAfterRows);
    if (settings.maxBytes == 0) {  // with a limit, where the chunk ends decides how much was read
        for (std::size_t chunk : {1, 3}) EXPECT_EQ(importChunked(input, chunk, settings, stopAfterRows), whole) << chunk;
    }
    return withoutBytes(whole);
}

using Events_ = std::vector<std::string>;

TEST(CsvImport, ColumnsAreFoundByCommonSpellingsInAnyOrder) {
    const Outcome o = import("Groups,Notes,Full Name,E-Mail,Subscription_Status\n"
                             "vip,ignored,Ann Lee,Ann@Example.ORG,Subscribed\n");
    EXPECT_EQ(o.error, "");
    EXPECT_EQ(o.events, (Events_{"row 2 Ann@example.org|Ann Lee|1|vip", "progress 1"}));
    EXPECT_EQ(import("EMAIL ADDRESS\na@b.org\n").events[0], "row 2 a@b.org||0|");
    EXPECT_EQ(import("mail;status\na@b.org;UNSUBSCRIBED\n").events[0], "row 2 a@b.org||2|");
    EXPECT_EQ(import("email_address\tgroup\na@b.org\tx\n").events[0], "row 2 a@b.org||0|x");
}

TEST(CsvImport, FirstAndLastNameAreJoinedWithASpace) {
    const Outcome o = import("First Name,Last Name,email\nJosé,Müller,j@x.org\n,Solo,s@x.org\nOnly,,o@x.org\n,,n@x.org\n");
    EXPECT_EQ(o.events, (Events_{"row 2 j@x.org|José Müller|0|", "row 3 s@x.org|Solo|0|", "row 4 o@x.org|Only|0|",
                                 "row 5 n@x.org||0|", "progress 4"}));
    // A name column wins over first/last.
    EXPECT_EQ(import("first name,name,email\nA,Full,a@x.org\n").events[0], "row 2 a@x.org|Full|0|");
}

TEST(CsvImport, MapOverridesDetection) {
    ImportSettings s;
    s.map = {"email=Adresse", "name = Wer ", "groups=Listen"};
    const Outcome o = import("email,Adresse,Wer,Listen\nnot-this,a@b.org,Änne,x|y\n", s);
    EXPECT_EQ(o.error, "");
    EXPECT_EQ(o.events[0], "row 2 a@b.org|Änne|0|x,y");
}

TEST(CsvImport, AMappedColumnThatIsNotThereRejectsTheImport) {
    ImportSettings s;
    s.map = {"email=Adresse"};
    EXPECT_EQ(import("\nemail,name\na@b.org,x\n", s).error,
              "structural: line 2: the column \"Adresse\" mapped to email is not in the header (columns: \"email\", \"name\")");
}

TEST(CsvImport, ABadMapEntryIsAnOptionError) {
    ImportSettings s;
    s.map = {"colour=Farbe"};
    EXPECT_EQ(import("email\n", s).error,
              "option: map entry \"colour=Farbe\" names no known field (fields: email, name, first_name, last_name, "
              "subscription_status, groups)");
    s.map = {"email"};
    EXPECT_NE(import("email\n", s).error.find("is not FIELD=COLUMN"), std::string::npos);
    ImportSettings d;
    d.delimiter = '"';
    EXPECT_NE(import("email\n", d).error.find("option: the delimiter"), std::string::npos);
}

TEST(CsvImport, NoEmailColumnRejectsTheImport) {
    const Outcome o = import("name,phone\nAnn,123\n");
    EXPECT_EQ(o.error, "structural: line 1: the header has no email column (looked for email, e-mail, email address, "
                       "mail; name it with a map entry email=COLUMN); columns: \"name\", \"phone\"");
    EXPECT_TRUE(o.events.empty());
}

TEST(CsvImport, AnEmptyFileIsRejectedAndAHeaderOnlyFileIsEmpty) {
    EXPECT_EQ(import("").error, "structural: line 1: the file is empty; it needs a header row naming the columns (e.g. email,name)");
    EXPECT_EQ(import("\xEF\xBB\xBF\r\n\r\n").error.substr(0, 31), "structural: line 1: the file is");
    const Outcome o = import("email,name\r\n");
    EXPECT_EQ(o.error, "");
    EXPECT_EQ(o.events, (Events_{"progress 0"}));
}

TEST(CsvImport, BomSemicolonsAndQuotedGroups) {
    const Outcome o = import("\xEF\xBB\xBF" "E-Mail;Name;Gruppen;Groups\r\n"
                             "zoe@example.org;\"Zoë; the second\";x;\"news; vip | news |  \"\r\n");
    EXPECT_EQ(o.error, "");
    EXPECT_EQ(o.events[0], "row 2 zoe@example.org|Zoë; the second|0|news,vip");
}

TEST(CsvImport, RowErrorsAreReportedAndTheRestImports) {
    const Outcome o = import(
        "email,name,subscription_status,groups\n"
        "good@example.org,Good,subscribed,a\n"
        "not an address,Bad,,\n"
        "bad@example.org,\"Line\nbreak\",,\n"
        "ok@example.org,Ok,maybe,\n"
        "grp@example.org,Grp,,\"a|b\x07" "c\"\n"
        "extra@example.org,Extra,,,surplus\n"
        "short@example.org\n"
        ",No address\n"
        "trailing@example.org,T,,,,\n"
        "UPPER@EXAMPLE.ORG,Dup,unsubscribed,\n"
        "upper@example.org,Dup again,Unsubscribed,\n");
    EXPECT_EQ(o.error, "");
    EXPECT_EQ(o.events, (Events_{
                            "row 2 good@example.org|Good|1|a",
                            "error 3 address \"not an address\": contains a space",
                            "error 4 name \"Line\\nbreak\": contains a line break (CR or LF); it must be a single line (a line break "
                            "in a mail header could add headers of its own)",
                            "error 6 subscription_status \"maybe\" is neither subscribed nor unsubscribed (or empty)",
                            "error 7 group \"b\\x07c\": contains the control character U+0007",
                            "error 8 the row has 5 fields but the header has 4 columns (an unquoted value with a "
                            "delimiter in it?)",
                            "row 9 short@example.org||0|",
                            "error 10 no email address",
                            "row 11 trailing@example.org|T|0|",
                            "row 12 UPPER@example.org|Dup|2|",
                            "row 13 upper@example.org|Dup again|2|",
                            "progress 11",  // line 4-5 is one record
                        }));
}

TEST(CsvImport, OnlyDelimitersIsABlankLine) {
    EXPECT_EQ(import("email,name\n,,\n ,\t\na@b.org,A\n").events, (Events_{"row 4 a@b.org|A|0|", "progress 1"}));
}

TEST(CsvImport, InternationalDomainsAreNormalisedByTheDaemonsRules) {
    EXPECT_EQ(import("email\nJörg@Bücher.Example\n").events[0],
              "error 2 address \"Jörg@Bücher.Example\": the local part contains non-ASCII characters; "
              "internationalised local parts (SMTPUTF8) are not supported");
    EXPECT_EQ(import("email\njoerg@Bücher.Example\n").events[0], "row 2 joerg@xn--bcher-kva.example||0|");
}

TEST(CsvImport, AStructuralErrorStopsEverythingAfterIt) {
    const Outcome o = import("email\na@b.org\nc@d.org\n\"e@f.org\n\ng@h.org\n");
    EXPECT_EQ(o.error, "structural: line 4: a quoted field starts here and is never closed (a '\"' is missing)");
    EXPECT_EQ(o.events, (Events_{"row 2 a@b.org||0|", "row 3 c@d.org||0|"}));
    const Outcome u = import("email\na@b.org\nbad\xFF@b.org\nc@d.org\n");
    EXPECT_EQ(u.error, "structural: line 3: the text is not valid UTF-8 (save the file as UTF-8; field 1)");
    EXPECT_EQ(u.events, (Events_{"row 2 a@b.org||0|"}));
}

TEST(CsvImport, MaxBytesRejectsALargerFile) {
    ImportSettings s;
    s.maxBytes = 20;
    const Outcome o = import("email\na@b.org\nc@d.org\ne@f.org\n", s);
    EXPECT_EQ(o.error, "structural: line 3: the file is larger than the limit of 20 bytes");
    s.maxBytes = 30;  // exactly the size
    EXPECT_EQ(import("email\na@b.org\nc@d.org\ne@f.org\n", s).error, "");
}

TEST(CsvImport, ProgressComesEveryNRowsAndAtTheEnd) {
    ImportSettings s;
    s.progressRows = 2;
    const Outcome o = import("email\na@b.org\nc@d.org\nbad\ne@f.org\ng@h.org\n", s);
    EXPECT_EQ(o.events, (Events_{"row 2 a@b.org||0|", "row 3 c@d.org||0|", "progress 2",
                                 "error 4 address \"bad\": has no @ between the local part and the domain",
                                 "row 5 e@f.org||0|", "progress 4", "row 6 g@h.org||0|", "progress 5"}));
}

TEST(CsvImport, ProgressBytesAreWhereTheRowEndsWhateverTheChunks) {
    ImportSettings s;
    s.progressRows = 1;
    // import() compares the chunked runs byte for byte; here the values themselves.
    import("x", s);
    const Outcome o = importChunked("\xEF\xBB\xBF" "email\r\na@b.org\r\n\r\nc@d.org", 2, s, 0);
    EXPECT_EQ(o.events, (Events_{"row 2 a@b.org||0|", "progress 1 18", "row 4 c@d.org||0|", "progress 2 28",
                                 "progress 2 28"}));
    EXPECT_EQ(importChunked("\xEF\xBB\xBF" "email\r\na@b.org\r\n\r\nc@d.org", 100, s, 0), o);
}

TEST(CsvImport, ASinkThatStopsStopsTheImport) {
    ImportSettings s;
    s.progressRows = 2;
    const Outcome o = import("email\na@b.org\nc@d.org\ne@f.org\n", s, 2);
    EXPECT_EQ(o.error, "stopped 5: cancelled by the test");
    EXPECT_EQ(o.events, (Events_{"row 2 a@b.org||0|", "row 3 c@d.org||0|", "progress 2"}));
}

TEST(CsvImport, ManyRowsInTinyChunksWithoutNewlineAtTheEnd) {
    std::string input = "email,name,group\r\n";
    for (int i = 0; i < 500; ++i) input += "u" + std::to_string(i) + "@example.org,\"Zoë \"\"" + std::to_string(i) + "\"\"\",g\r\n";
    input.resize(input.size() - 2);
    const Outcome o = import(input);
    EXPECT_EQ(o.error, "");
    ASSERT_EQ(o.events.size(), 501u);
    EXPECT_EQ(o.events[499], "row 501 u499@example.org|Zoë \"499\"|0|g");
}

// A pipe whose writer has sent two rows and then neither writes nor closes: reading would block
// for ever, yet the sink still hears of progress while waiting and can stop the import (this is
// how a cancel reaches an import fed from a stalled client).
TEST(CsvImport, AStalledPipeCanStillBeStopped) {
    int fds[2];
    ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
    const std::string input = "email\na@b.org\nc@d.org\n";
    ASSERT_EQ(::write(fds[1], input.data(), input.size()), static_cast<ssize_t>(input.size()));
    DaemonValidator validator;
    Events sink;
    sink.stopAfterRows = 2;
    RecipientImport import(ImportSettings{}, validator, sink);
    EXPECT_THROW(importFromFd(fds[0], import), Stopped);
    ::close(fds[0]);
    ::close(fds[1]);
    EXPECT_EQ(sink.events, (Events_{"row 2 a@b.org||0|", "row 3 c@d.org||0|", "progress 2 22"}));
}

}  // namespace
