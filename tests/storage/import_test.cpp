// import_test.cpp: the bulk recipient import (ImportStore::beginImport), run unchanged against
// SQLite and PostgreSQL: every rule of import_store.h's RecipientImport, checked by reading the
// results back through the Store, plus all-or-nothing with a second connection watching and
// with a child process (this same binary, see ImportChild below) killed in the middle.
#include <gtest/gtest.h>

#include <atomic>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <thread>

#include "core/error.h"
#include "storage/bulk_import.h"
#include "storage/sql_store.h"
#include "storage/store.h"
#include "support/postgres_environment.h"
#include "support/process.h"
#include "support/temp_dir.h"

namespace campaignd::storage {
namespace {

using test::PostgresEnvironment;
using test::TempDir;
using namespace std::chrono_literals;

constexpr Usec kNow = 1'760'000'000'000'000;
constexpr Usec kLater = kNow + 3'600'000'000;

struct Row {
    std::uint64_t line;
    std::string email;
    std::string name;
    std::optional<SubscriptionStatus> status = std::nullopt;
    std::vector<std::string> groups = {};
};

void addRow(RecipientImport& import, const Row& row) {
    std::vector<std::string_view> groups(row.groups.begin(), row.groups.end());
    import.add(StagedRecipient{row.line, row.email, row.name, row.status, groups, {}});
}

std::string describe(const ImportCounts& c) {
    std::string s = "rows=" + std::to_string(c.rows) + " imported=" + std::to_string(c.imported) +
                    " updated=" + std::to_string(c.updated) +
                    " duplicatesInFile=" + std::to_string(c.duplicatesInFile) +
                    " alreadyStored=" + std::to_string(c.alreadyStored) +
                    " unsubscribedKept=" + std::to_string(c.unsubscribedKept) + " groupsCreated=[";
    for (std::size_t i = 0; i < c.groupsCreated.size(); ++i) s += (i ? "," : "") + c.groupsCreated[i];
    return s + "]";
}

// ---- the child process for the kill tests ---------------------------------------------------
// When this binary starts with CAMPAIGND_IMPORT_CHILD_URL set, it is not a test run: it opens
// that database, stages CAMPAIGND_IMPORT_CHILD_ROWS rows and then, by CAMPAIGND_IMPORT_CHILD_MODE:
//   wait      prints "staged" and waits to be killed;
//   selfkill  raises SIGKILL;
//   finish    prints "merging", runs finish() and prints "committed" (the parent kills it
//             somewhere in between, or after).
[[noreturn]] void runImportChild(const char* url) {
    const std::string mode = std::getenv("CAMPAIGND_IMPORT_CHILD_MODE");
    const long rows = std::atol(std::getenv("CAMPAIGND_IMPORT_CHILD_ROWS"));
    try {
        auto store = openStore(url);
        BulkImportOptions options;
        options.now = kLater;
        options.createGroups = true;
        auto import = store->beginImport(options);
        const std::string_view groups[] = {"killed-group"};
        for (long i = 0; i < rows; ++i) {
            const std::string email = "child" + std::to_string(i) + "@example.com";
            import->add(StagedRecipient{std::uint64_t(i + 2), email, "Child", std::nullopt, groups, {}});
        }
        if (mode == "selfkill") std::raise(SIGKILL);
        if (mode == "finish") {
            std::cout << "merging" << std::endl;
            import->finish();
            std::cout << "committed" << std::endl;
        } else {
            std::cout << "staged" << std::endl;
        }
        for (;;) std::this_thread::sleep_for(1s);
    } catch (const std::exception& e) {
        std::cerr << "child failed: " << e.what() << std::endl;
        std::_Exit(3);
    }
}

[[maybe_unused]] const bool kChild = [] {
    if (const char* url = std::getenv("CAMPAIGND_IMPORT_CHILD_URL")) runImportChild(url);
    return false;
}();

// ---- the fixture ---------------------------------------------------------------------------

class ImportTest : public ::testing::TestWithParam<std::string> {
protected:
    void SetUp() override {
        if (GetParam() == "sqlite")
            url_ = "sqlite:" + (dir_ / "db" / "campaignd.sqlite").string();
        else
            url_ = PostgresEnvironment::server().createDatabase("import");
        store_ = openStore(url_);
    }

    // Most tests are about other rules: their rows may name new groups.
    static BulkImportOptions creatingGroups() {
        BulkImportOptions options;
        options.createGroups = true;
        return options;
    }

    ImportCounts import(const std::vector<Row>& rows, BulkImportOptions options = creatingGroups()) {
        if (options.now == 0) options.now = kLater;
        auto session = store_->beginImport(options);
        for (const Row& row : rows) addRow(*session, row);
        return session->finish();
    }

    Id addRecipient(std::string email, std::string name,
                    SubscriptionStatus status = SubscriptionStatus::Subscribed) {
        Recipient r;
        r.email = std::move(email);
        r.name = std::move(name);
        r.status = status;
        r.createdAt = kNow;
        return store_->insertRecipient(r);
    }

    Recipient find(std::string_view email) {
        auto r = store_->findRecipient(email);
        if (!r) throw std::runtime_error("no recipient " + std::string(email));
        return *r;
    }

    std::int64_t count(const std::string& sqlText) {
        return dynamic_cast<SqlStore&>(*store_).connection().query(sqlText).at(0).int64(0);
    }
    std::int64_t recipients() { return count("SELECT COUNT(*) FROM recipients"); }
    std::int64_t memberships() { return count("SELECT COUNT(*) FROM group_members"); }
    std::int64_t groups() { return count("SELECT COUNT(*) FROM recipient_groups"); }

    // A snapshot of everything an import can change, to compare before and after.
    std::string contents() {
        std::string s;
        for (const Recipient& r : store_->listRecipients({})) {
            s += r.email + "|" + r.name + "|" + std::string(toString(r.status)) + "|";
            for (const auto& g : r.groups) s += g + ",";
            s += "\n";
        }
        for (const Group& g : store_->listGroups()) s += "group " + g.name + " " + std::to_string(g.memberCount) + "\n";
        return s;
    }

    // Runs this binary as the import child (see runImportChild).
    std::unique_ptr<test::Process> startChild(const std::string& mode, long rows) {
        test::ProcessOptions options;
        options.env = {{"CAMPAIGND_IMPORT_CHILD_URL", url_},
                       {"CAMPAIGND_IMPORT_CHILD_MODE", mode},
                       {"CAMPAIGND_IMPORT_CHILD_ROWS", std::to_string(rows)}};
        return std::make_unique<test::Process>(
            std::vector<std::string>{std::filesystem::read_symlink("/proc/self/exe").string()}, options);
    }

    TempDir dir_{"campaignd-import-test"};
    std::string url_;
    std::unique_ptr<Store> store_;
};

// ---- new recipients ------------------------------------------------------------------------

TEST_P(ImportTest, NewAddressesAreInsertedWithNameStatusAndGroups) {
    const Id existingGroup = store_->insertGroup("customers", kNow);
    const auto counts = import({
        {2, "ann@example.com", "Ann", std::nullopt, {"customers", "newsletter"}},
        {3, "bob@example.com", "Bob", SubscriptionStatus::Unsubscribed},
        {4, "cy@example.com", "", SubscriptionStatus::Subscribed, {"newsletter"}},
    });
    EXPECT_EQ(describe(counts),
              "rows=3 imported=3 updated=0 duplicatesInFile=0 alreadyStored=0 unsubscribedKept=0 "
              "groupsCreated=[newsletter]");

    const Recipient ann = find("ann@example.com");
    EXPECT_EQ(ann.name, "Ann");
    EXPECT_EQ(ann.status, SubscriptionStatus::Subscribed);  // unspecified: subscribed
    EXPECT_EQ(ann.createdAt, kLater);
    EXPECT_EQ(ann.groups, (std::vector<std::string>{"customers", "newsletter"}));
    const Recipient bob = find("bob@example.com");
    EXPECT_EQ(bob.status, SubscriptionStatus::Unsubscribed);
    EXPECT_TRUE(bob.groups.empty());
    EXPECT_EQ(find("cy@example.com").groups, (std::vector<std::string>{"newsletter"}));
    EXPECT_EQ(store_->findGroup("customers")->id, existingGroup);
    EXPECT_EQ(store_->findGroup("customers")->memberCount, 1);
    EXPECT_EQ(store_->findGroup("newsletter")->memberCount, 2);
    EXPECT_EQ(store_->findGroup("newsletter")->createdAt, kLater);
}

TEST_P(ImportTest, AnEmptyImportChangesNothing) {
    addRecipient("ann@example.com", "Ann");
    const std::string before = contents();
    EXPECT_EQ(describe(import({})),
              "rows=0 imported=0 updated=0 duplicatesInFile=0 alreadyStored=0 unsubscribedKept=0 groupsCreated=[]");
    EXPECT_EQ(contents(), before);
}

TEST_P(ImportTest, ValuesTravelExactlyWhateverTheyContain) {
    // COPY's text format has its own escapes (tab, newline, backslash, \N); none may leak.
    const std::string name = "Tab\there, new\nline, back\\slash \\N 'quote' \"dq\"; DROP TABLE recipients; -- Ünïcødé";
    const std::string group = "g \\ \" \t\n , [ ] {x} ünï";
    const auto counts = import({{7, "o'brien+tag@example.com", name, std::nullopt, {group, "plain"}}});
    EXPECT_EQ(counts.imported, 1);
    EXPECT_EQ(counts.groupsCreated, (std::vector<std::string>{group, "plain"}));  // byte-wise order
    const Recipient r = find("o'brien+tag@example.com");
    EXPECT_EQ(r.email, "o'brien+tag@example.com");
    EXPECT_EQ(r.name, name);
    EXPECT_EQ(r.groups, (std::vector<std::string>{group, "plain"}));  // byte-wise order
    ASSERT_TRUE(store_->findGroup(group));
}

// ---- duplicates ----------------------------------------------------------------------------

TEST_P(ImportTest, DuplicatesInTheFileCompareCaseInsensitivelyAndTheFirstLineWins) {
    const auto counts = import({
        {5, "Dana@example.com", "Dana (line 5)", std::nullopt, {"from-line-5"}},
        {2, "DANA@example.com", "Dana (line 2)", SubscriptionStatus::Unsubscribed, {"from-line-2"}},
        {9, "dana@example.com", "Dana (line 9)", std::nullopt, {"from-line-9"}},
        {3, "eve@example.com", "Eve"},
        {4, "EVE@example.com", "Eve again"},
    });
    EXPECT_EQ(describe(counts),
              "rows=5 imported=2 updated=0 duplicatesInFile=3 alreadyStored=0 unsubscribedKept=0 "
              "groupsCreated=[from-line-2]");
    EXPECT_EQ(recipients(), 2);
    const Recipient dana = find("dana@example.com");
    EXPECT_EQ(dana.email, "DANA@example.com");  // the spelling of the first line
    EXPECT_EQ(dana.name, "Dana (line 2)");
    EXPECT_EQ(dana.status, SubscriptionStatus::Unsubscribed);
    // A later row of the same address has no effect at all: its groups are not even created.
    EXPECT_EQ(dana.groups, (std::vector<std::string>{"from-line-2"}));
    EXPECT_FALSE(store_->findGroup("from-line-5"));
    EXPECT_EQ(find("eve@example.com").name, "Eve");
}

TEST_P(ImportTest, StoredRecipientsMatchCaseInsensitivelyAndKeepNamesWithoutUpdate) {
    addRecipient("Frank.Lee@example.com", "Frank");
    addRecipient("gina@example.com", "Gina");
    const auto counts = import({
        {2, "frank.lee@example.com", "Franklin"},
        {3, "GINA@example.com", "Gina"},
        {4, "FRANK.LEE@example.com", "Frankie"},
    });
    EXPECT_EQ(describe(counts),
              "rows=3 imported=0 updated=0 duplicatesInFile=1 alreadyStored=2 unsubscribedKept=0 groupsCreated=[]");
    EXPECT_EQ(recipients(), 2);
    const Recipient frank = find("frank.lee@example.com");
    EXPECT_EQ(frank.email, "Frank.Lee@example.com");  // the stored spelling stays
    EXPECT_EQ(frank.name, "Frank");
    EXPECT_EQ(frank.createdAt, kNow);
}

TEST_P(ImportTest, UpdateNamesReplacesDifferentNonEmptyNamesOnly) {
    addRecipient("hal@example.com", "Hal");
    addRecipient("ida@example.com", "Ida");
    addRecipient("jo@example.com", "Jo");
    BulkImportOptions options;
    options.updateNames = true;
    const auto counts = import({
                                   {2, "HAL@example.com", "Hal Jordan"},  // different: updated
                                   {3, "ida@example.com", "Ida"},         // same: already stored
                                   {4, "jo@example.com", ""},             // empty: keeps "Jo"
                                   {5, "kim@example.com", "Kim"},
                               },
                               options);
    EXPECT_EQ(describe(counts),
              "rows=4 imported=1 updated=1 duplicatesInFile=0 alreadyStored=2 unsubscribedKept=0 groupsCreated=[]");
    EXPECT_EQ(find("hal@example.com").name, "Hal Jordan");
    EXPECT_EQ(find("hal@example.com").email, "hal@example.com");
    EXPECT_EQ(find("ida@example.com").name, "Ida");
    EXPECT_EQ(find("jo@example.com").name, "Jo");
}

// ---- subscription --------------------------------------------------------------------------

TEST_P(ImportTest, AnUnsubscribedRecipientStaysUnsubscribed) {
    addRecipient("lea@example.com", "Lea", SubscriptionStatus::Unsubscribed);
    addRecipient("max@example.com", "Max", SubscriptionStatus::Unsubscribed);
    addRecipient("ned@example.com", "Ned", SubscriptionStatus::Unsubscribed);
    BulkImportOptions options;
    options.updateNames = true;
    const auto counts = import({
                                   {2, "LEA@example.com", "Lea", SubscriptionStatus::Subscribed},
                                   {3, "max@example.com", "Maxine"},  // name updated, still unsubscribed
                                   {4, "ned@example.com", "Ned", SubscriptionStatus::Unsubscribed},
                               },
                               options);
    EXPECT_EQ(describe(counts),
              "rows=3 imported=0 updated=1 duplicatesInFile=0 alreadyStored=2 unsubscribedKept=2 groupsCreated=[]");
    for (const char* email : {"lea@example.com", "max@example.com", "ned@example.com"})
        EXPECT_EQ(find(email).status, SubscriptionStatus::Unsubscribed) << email;
    EXPECT_EQ(find("max@example.com").name, "Maxine");
}

TEST_P(ImportTest, AnExplicitUnsubscribeIsHonouredAndCountsAsUpdated) {
    addRecipient("olga@example.com", "Olga");
    addRecipient("pia@example.com", "Pia");
    const auto counts = import({
        {2, "olga@example.com", "Olga", SubscriptionStatus::Unsubscribed},
        {3, "pia@example.com", "Pia", SubscriptionStatus::Subscribed},
    });
    EXPECT_EQ(describe(counts),
              "rows=2 imported=0 updated=1 duplicatesInFile=0 alreadyStored=1 unsubscribedKept=0 groupsCreated=[]");
    EXPECT_EQ(find("olga@example.com").status, SubscriptionStatus::Unsubscribed);
    EXPECT_EQ(find("olga@example.com").name, "Olga");
    EXPECT_EQ(find("pia@example.com").status, SubscriptionStatus::Subscribed);
}

// ---- groups --------------------------------------------------------------------------------

TEST_P(ImportTest, GroupsAreCreatedOnceAndJoinedOnce) {
    const Id vip = store_->insertGroup("vip", kNow);
    const Id all = store_->insertGroup("all", kNow);
    const Id quinn = addRecipient("quinn@example.com", "Quinn");
    ASSERT_TRUE(store_->addGroupMember(vip, quinn));
    BulkImportOptions options = creatingGroups();
    options.groupIds = {all, vip};
    const auto counts = import({
                                   {2, "quinn@example.com", "Quinn", std::nullopt, {"vip", "VIP", "vip", ""}},
                                   {3, "rae@example.com", "Rae", std::nullopt, {"vip", "spring", "spring"}},
                                   {4, "sam@example.com", "Sam", std::nullopt, {"Spring"}},
                               },
                               options);
    // Group names are case-sensitive: "VIP" and "Spring" are groups of their own.
    EXPECT_EQ(describe(counts),
              "rows=3 imported=2 updated=0 duplicatesInFile=0 alreadyStored=1 unsubscribedKept=0 "
              "groupsCreated=[Spring,VIP,spring]");
    EXPECT_EQ(find("quinn@example.com").groups, (std::vector<std::string>{"VIP", "all", "vip"}));
    EXPECT_EQ(find("rae@example.com").groups, (std::vector<std::string>{"all", "spring", "vip"}));
    EXPECT_EQ(find("sam@example.com").groups, (std::vector<std::string>{"Spring", "all", "vip"}));
    EXPECT_EQ(store_->findGroup("vip")->memberCount, 3);
    EXPECT_EQ(store_->findGroup("all")->memberCount, 3);
    EXPECT_EQ(memberships(), 3 + 3 + 1 + 1 + 1);
    EXPECT_EQ(groups(), 5);

    // The same file again: nothing new anywhere.
    const auto again = import({{2, "quinn@example.com", "Quinn", std::nullopt, {"vip", "VIP"}},
                               {3, "rae@example.com", "Rae", std::nullopt, {"spring"}}},
                              options);
    EXPECT_EQ(describe(again),
              "rows=2 imported=0 updated=0 duplicatesInFile=0 alreadyStored=2 unsubscribedKept=0 groupsCreated=[]");
    EXPECT_EQ(memberships(), 9);
    EXPECT_EQ(groups(), 5);
}

TEST_P(ImportTest, AMissingOptionGroupIsRefusedBeforeAnythingIsWritten) {
    const Id kept = store_->insertGroup("kept", kNow);
    BulkImportOptions options;
    options.now = kLater;
    options.groupIds = {kept, kept + 1000};
    try {
        store_->beginImport(options);
        FAIL() << "expected Error(NotFound)";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::NotFound);
        EXPECT_NE(std::string(e.what()).find(std::to_string(kept + 1000)), std::string::npos) << e.what();
    }
    // The store is usable as before.
    EXPECT_EQ(import({{2, "tia@example.com", "Tia"}}).imported, 1);
}

TEST(ImportGroupsJson, EscapesAndDropsEmptyAndRepeatedNames) {
    const std::string_view names[] = {"a", "", "b\"c", "a", "d\\e", std::string_view("\x01\n", 2), "ünï"};
    EXPECT_EQ(importGroupsJson(names), R"(["a","b\"c","d\\e","\u0001\u000a","ünï"])");
    EXPECT_EQ(importGroupsJson({}), "[]");
}

// ---- dry run, rollback, isolation ----------------------------------------------------------

TEST_P(ImportTest, GroupsTheRowsNameMustExistUnlessTheImportMayCreateThem) {
    store_->insertGroup("vip", kNow);
    addRecipient("ann@example.com", "Ann");
    const std::vector<Row> rows{
        {2, "bob@example.com", "Bob", std::nullopt, {"vip"}},
        {3, "cy@example.com", "Cy", std::nullopt, {"vpi", "vip"}},
        {4, "dee@example.com", "Dee", std::nullopt, {"Staff"}},
        {5, "eve@example.com", "Eve", std::nullopt, {"vpi"}},
    };
    const std::string before = contents();
    // Refused before anything is merged, naming every unknown group and its first line.
    try {
        import(rows, BulkImportOptions{});
        ADD_FAILURE() << "an import naming unknown groups was not refused";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::InvalidArgument);
        EXPECT_NE(std::string(e.what()).find("2 groups that do not exist: Staff (line 4), vpi (line 3);"),
                  std::string::npos)
            << e.what();
    }
    EXPECT_EQ(contents(), before);
    EXPECT_FALSE(store_->findGroup("vpi"));

    // A dry run lists them and still counts the rest.
    BulkImportOptions dry;
    dry.dryRun = true;
    const auto counts = import(rows, dry);
    EXPECT_EQ(counts.imported, 4);
    EXPECT_TRUE(counts.groupsCreated.empty());
    EXPECT_EQ(counts.groupsUnknown, (std::vector<std::pair<std::string, std::uint64_t>>{{"Staff", 4}, {"vpi", 3}}));
    EXPECT_EQ(contents(), before);

    // Rows naming only existing groups need nothing more.
    const auto known = import({{6, "fay@example.com", "Fay", std::nullopt, {"vip"}}}, BulkImportOptions{});
    EXPECT_EQ(known.imported, 1);
    EXPECT_TRUE(known.groupsUnknown.empty());
    EXPECT_EQ(find("fay@example.com").groups, (std::vector<std::string>{"vip"}));

    // With createGroups they are created, and groupsUnknown stays empty.
    const auto created = import(rows, creatingGroups());
    EXPECT_EQ(created.groupsCreated, (std::vector<std::string>{"Staff", "vpi"}));
    EXPECT_TRUE(created.groupsUnknown.empty());
    EXPECT_EQ(find("cy@example.com").groups, (std::vector<std::string>{"vip", "vpi"}));
}

TEST_P(ImportTest, ADryRunWritesNothingButCountsLikeTheRealRun) {
    addRecipient("uma@example.com", "Uma", SubscriptionStatus::Unsubscribed);
    addRecipient("vic@example.com", "Vic");
    const Id all = store_->insertGroup("all", kNow);
    const std::vector<Row> rows{
        {2, "uma@example.com", "Uma"},
        {3, "vic@example.com", "Victor", SubscriptionStatus::Unsubscribed, {"new-group"}},
        {4, "wes@example.com", "Wes", std::nullopt, {"new-group"}},
        {5, "WES@example.com", "Wes twice"},
    };
    BulkImportOptions options = creatingGroups();
    options.updateNames = true;
    options.groupIds = {all};
    const std::string before = contents();

    options.dryRun = true;
    const auto dry = import(rows, options);
    EXPECT_EQ(contents(), before);
    EXPECT_FALSE(store_->findGroup("new-group"));

    options.dryRun = false;
    const auto real = import(rows, options);
    EXPECT_EQ(describe(dry), describe(real));
    EXPECT_EQ(describe(real),
              "rows=4 imported=1 updated=1 duplicatesInFile=1 alreadyStored=1 unsubscribedKept=1 "
              "groupsCreated=[new-group]");
    EXPECT_NE(contents(), before);
}

TEST_P(ImportTest, DestroyingAnUnfinishedImportRollsBackAndTheStoreGoesOn) {
    addRecipient("xia@example.com", "Xia");
    const std::string before = contents();
    {
        BulkImportOptions options;
        options.now = kLater;
        auto session = store_->beginImport(options);
        for (int i = 0; i < 1000; ++i)
            addRow(*session, {std::uint64_t(i + 2), "r" + std::to_string(i) + "@example.com", "R", std::nullopt, {"g"}});
    }
    EXPECT_EQ(contents(), before);
    // The connection is clean: a store call and a second import both work.
    addRecipient("yan@example.com", "Yan");
    EXPECT_EQ(describe(import({{2, "zoe@example.com", "Zoe"}, {3, "xia@example.com", "Xia"}})),
              "rows=2 imported=1 updated=0 duplicatesInFile=0 alreadyStored=1 unsubscribedKept=0 groupsCreated=[]");
    EXPECT_EQ(recipients(), 3);
}

TEST_P(ImportTest, AFinishedSessionRefusesMoreRows) {
    BulkImportOptions options;
    options.now = kLater;
    auto session = store_->beginImport(options);
    addRow(*session, {2, "a@example.com", "A"});
    session->finish();
    try {
        addRow(*session, {3, "b@example.com", "B"});
        ADD_FAILURE() << "add() after finish() did not throw";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::Failed);
    }
    EXPECT_THROW(session->finish(), Error);
    EXPECT_EQ(recipients(), 1);
}

TEST_P(ImportTest, OtherConnectionsSeeNothingUntilTheCommitAndCarryOnMeanwhile) {
    auto other = openStore(url_);
    BulkImportOptions options = creatingGroups();
    options.now = kLater;
    auto session = store_->beginImport(options);
    for (int i = 0; i < 500; ++i)
        addRow(*session, {std::uint64_t(i + 2), "s" + std::to_string(i) + "@example.com", "S", std::nullopt, {"staged"}});

    // While rows are staged, another connection reads and writes without waiting or failing
    // (SQLite: the staging holds no write lock on the shared database).
    const auto started = std::chrono::steady_clock::now();
    EXPECT_TRUE(other->listRecipients({}).empty());
    EXPECT_FALSE(other->findGroup("staged"));
    Recipient r;
    r.email = "meanwhile@example.com";
    r.createdAt = kNow;
    other->insertRecipient(r);
    EXPECT_LT(std::chrono::steady_clock::now() - started, 2s);

    const auto counts = session->finish();
    EXPECT_EQ(counts.imported, 500);
    EXPECT_EQ(other->listRecipients({}).size(), 501u);
    EXPECT_EQ(other->findGroup("staged")->memberCount, 500);
}

TEST_P(ImportTest, ReadsOnAnotherConnectionDoNotFailDuringTheMerge) {
    addRecipient("first@example.com", "First");
    auto other = openStore(url_);
    std::atomic<bool> done{false};
    std::atomic<int> reads{0}, failures{0};
    std::thread reader([&] {
        RecipientFilter firstFive;
        firstFive.limit = 5;
        while (!done) {
            try {
                const auto page = other->listRecipients(firstFive);
                if (page.empty()) ++failures;
                ++reads;
            } catch (const std::exception&) {
                ++failures;
            }
        }
    });
    std::vector<Row> rows;
    for (int i = 0; i < 20'000; ++i)
        rows.push_back({std::uint64_t(i + 2), "m" + std::to_string(i) + "@example.com", "M", std::nullopt, {"merge"}});
    const auto counts = import(rows);
    done = true;
    reader.join();
    EXPECT_EQ(counts.imported, 20'000);
    EXPECT_GT(reads.load(), 0);
    EXPECT_EQ(failures.load(), 0);
}

// ---- a killed process ----------------------------------------------------------------------

TEST_P(ImportTest, AProcessKilledWhileStagingLeavesNothing) {
    addRecipient("child0@example.com", "Stored before");
    const std::string before = contents();

    auto waiting = startChild("wait", 5'000);
    ASSERT_TRUE(waiting->waitForOutput("staged", 60s)) << waiting->err();
    waiting->kill();
    EXPECT_EQ(waiting->wait(10s), 128 + SIGKILL);

    auto selfKilled = startChild("selfkill", 5'000);
    EXPECT_EQ(selfKilled->wait(60s), 128 + SIGKILL) << selfKilled->err();

    store_ = openStore(url_);  // a fresh connection sees the database as others do
    EXPECT_EQ(contents(), before);
    EXPECT_FALSE(store_->findGroup("killed-group"));
    // And the database takes the same import afterwards.
    EXPECT_EQ(import({{2, "child1@example.com", "Child"}}).imported, 1);
}

TEST_P(ImportTest, AProcessKilledDuringTheMergeLeavesAllOrNothing) {
    constexpr long kRows = 100'000;
    auto child = startChild("finish", kRows);
    ASSERT_TRUE(child->waitForOutput("merging", 120s)) << child->err();
    std::this_thread::sleep_for(50ms);  // somewhere inside the merge, most likely
    child->kill();
    child->wait(10s);
    const bool committed = child->out().find("committed") != std::string::npos;

    store_ = openStore(url_);
    // All or nothing, whatever the moment of the kill; all for sure once it said so (the kill
    // may also land between the commit and the word).
    const auto group = store_->findGroup("killed-group");
    const bool all = recipients() == kRows && group && group->memberCount == kRows;
    const bool nothing = recipients() == 0 && !group && memberships() == 0;
    EXPECT_TRUE(all || nothing) << recipients() << " recipients, " << memberships() << " memberships";
    if (committed) {
        EXPECT_TRUE(all);
    }
    std::cout << "[          ] killed " << (all ? "after the commit" : "before the commit") << std::endl;
}

// ---- volume --------------------------------------------------------------------------------

TEST_P(ImportTest, AHundredThousandRowsGiveExactCounts) {
    // Stored first: 1,000 subscribed (i % 100 == 0) and 1,000 unsubscribed (i % 100 == 50).
    const Id stored = store_->insertGroup("stored", kNow);
    store_->transaction([&] {
        for (int i = 0; i < 100'000; i += 50) {
            const Id id = addRecipient("user" + std::to_string(i) + "@example.com", "Stored",
                                       i % 100 == 0 ? SubscriptionStatus::Subscribed : SubscriptionStatus::Unsubscribed);
            store_->addGroupMember(stored, id);
        }
    });
    ASSERT_EQ(recipients(), 2'000);

    // The file: 100,000 rows for 90,000 addresses; 10,000 repeats in upper case 1,000 lines on.
    BulkImportOptions options = creatingGroups();
    options.now = kLater;
    options.groupIds = {stored};
    auto session = store_->beginImport(options);
    const std::string_view groupsOf[][1] = {{"even"}, {"odd"}};
    std::uint64_t line = 1;
    for (int i = 0; i < 90'000; ++i) {
        const std::string email = "user" + std::to_string(i) + "@example.com";
        session->add({++line, email, "User " + std::to_string(i), std::nullopt, groupsOf[i % 2], {}});
        if (i % 9 == 0 && i >= 1'000) {
            const std::string again = "USER" + std::to_string(i - 1'000) + "@example.com";
            session->add({++line, again, "Again", SubscriptionStatus::Unsubscribed, {}, {}});
        }
    }
    while (line < 100'001) {  // top up with repeats of the first address
        session->add({++line, "User0@Example.com", "Again", SubscriptionStatus::Unsubscribed, {}, {}});
    }
    const auto counts = session->finish();
    // Stored addresses in 0..89,999: i % 50 == 0 -> 1,800 (900 subscribed, 900 unsubscribed).
    EXPECT_EQ(describe(counts),
              "rows=100000 imported=88200 updated=0 duplicatesInFile=10000 alreadyStored=1800 "
              "unsubscribedKept=900 groupsCreated=[even,odd]");
    EXPECT_EQ(recipients(), 2'000 + 88'200);
    EXPECT_EQ(store_->findGroup("stored")->memberCount, 90'000 + 200);  // + the 200 stored above 89,999
    EXPECT_EQ(store_->findGroup("even")->memberCount, 45'000);
    EXPECT_EQ(store_->findGroup("odd")->memberCount, 45'000);
    EXPECT_EQ(count("SELECT COUNT(*) FROM recipients WHERE status = 'unsubscribed'"), 1'000);
    const Recipient u1 = find("user1@example.com");
    EXPECT_EQ(u1.name, "User 1");
    EXPECT_EQ(u1.status, SubscriptionStatus::Subscribed);
    EXPECT_EQ(u1.groups, (std::vector<std::string>{"odd", "stored"}));
    EXPECT_EQ(find("user50@example.com").status, SubscriptionStatus::Unsubscribed);
    EXPECT_EQ(find("user50@example.com").name, "Stored");
}

INSTANTIATE_TEST_SUITE_P(Backends, ImportTest, ::testing::Values("sqlite", "postgresql"),
                         [](const ::testing::TestParamInfo<std::string>& info) { return info.param; });

}  // namespace
}  // namespace campaignd::storage
