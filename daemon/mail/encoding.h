// encoding.h: the byte-level encodings a message needs, written so that their output is safe by
// construction: quoted-printable bodies (RFC 2045 6.7, lines of at most 76 octets), RFC 2047
// encoded-words for non-ASCII subjects and display names (each at most 75 characters, never
// splitting a UTF-8 character, lines with encoded-words at most 76), and header fields folded
// at 76 columns. Nothing here can emit a CR or LF other than the CRLF that ends a line or
// folds a header (followed by a space): every header token passes checkHeaderToken first.
#pragma once

#include <string>
#include <string_view>

namespace campaignd::mail {

// Appends `body` quoted-printable encoded. Line ends in the input (CRLF, LF or a lone CR)
// become CRLF; spaces and tabs before a line end are encoded; a "." or "From " at the start
// of a line is encoded too (=2E, =46), so broken transports and mbox files cannot alter it.
// Encoded lines are at most 76 octets. Does not add a final CRLF.
void appendQuotedPrintable(std::string& out, std::string_view body);

// Makes outside text fit for a header or a personalised value: invalid UTF-8 bytes become
// U+FFFD, control characters (C0 including CR, LF and TAB; DEL; C1) become spaces, runs of
// white space collapse to one space, and leading and trailing spaces go.
std::string cleanHeaderText(std::string_view text);

// Refuses (Error InvalidArgument, naming `field`) a header token holding anything other than
// printable ASCII and spaces. Every token a HeaderWriter appends passes this check.
void checkHeaderToken(std::string_view field, std::string_view token);

// Writes one header field, "Name: tokens...\r\n", folding between tokens (CRLF SP) so that no
// line exceeds 76 columns where a break is possible. A token is never split.
class HeaderWriter {
public:
    // Appends "Name:" to `out`. `name` is a constant field name of printable ASCII.
    HeaderWriter(std::string& out, std::string_view name);

    // Appends a space (or a fold) and `token`, checked by checkHeaderToken.
    void token(std::string_view token);
    // Appends `text` as unstructured text (RFC 5322 3.2.5, as in Subject): ASCII words as
    // they are, runs of words that need encoding (non-ASCII, "=?", longer than a line) as
    // RFC 2047 encoded-words. `text` should be cleanHeaderText's output.
    void unstructured(std::string_view text);
    // Appends `text` as a display name (RFC 5322 phrase): atoms as they are, a quoted-string
    // when it holds specials such as ',' or '"', encoded-words when it is not ASCII.
    void phrase(std::string_view text);
    // Appends the final CRLF. Must be called once.
    void finish();

private:
    void encodedWords(std::string_view utf8);
    std::size_t column() const { return out_.size() - lineStart_; }
    void separate(std::size_t nextTokenLength);

    std::string& out_;
    std::string name_;
    std::size_t lineStart_;
    bool empty_ = true;
};

}  // namespace campaignd::mail
