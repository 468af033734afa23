// message.h: composes what a transport sends for one recipient of a campaign: the RFC 5322
// bytes (multipart/alternative, text/plain and text/html, UTF-8, quoted-printable), the VERP
// envelope sender and the Message-ID. A CampaignTemplate is compiled once per campaign (the
// parsed templates, the From header, the constant headers, the MIME framing, the text derived
// from the HTML); render() is then cheap and may run on several threads at once.
// Refuses, with Error(InvalidArgument): invalid templates or settings at compile time, a
// recipient whose address is not a valid mailbox at render time. No header can carry a CR or
// LF from any input: header text is cleaned, encoded, and every token checked.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/model.h"
#include "mail/dkim.h"
#include "mail/verp.h"

namespace campaignd::mail {

// The settings for one campaign's messages: the daemon's [Sending] configuration plus the
// campaign's own choices (subjectTag).
struct MessageSettings {
    // The From when the campaign has none: "addr@domain" or "Display Name <addr@domain>".
    std::string defaultFrom;
    // The right-hand side of Message-IDs; empty: the From address's domain.
    std::string messageIdDomain;
    // The envelope sender (VERP); also the secret for recipient tokens.
    VerpSettings verp;
    // An address for List-Unsubscribe's mailto: URI ("unsubscribe@example.org"); the subject
    // of that mail names the campaign and the recipient's token. Empty: none.
    std::string unsubscribeMailto;
    // An http(s) URL for List-Unsubscribe and {{unsubscribe_url}}, in which "{campaign_id}"
    // and "{token}" (required) are replaced; an https URL also gets List-Unsubscribe-Post
    // (RFC 8058 one-click). Empty: none.
    std::string unsubscribeUrl;
    // The "view in browser" URL for {{view_url}}, with "{campaign_id}" and "{token}" (required)
    // replaced as in unsubscribeUrl. Empty: none, and a campaign using {{view_url}} is refused.
    std::string viewUrl;
    // The original design's subject tag: " [CID:<campaign id>]" after the subject.
    bool subjectTag = true;
    // The SenderId of "Feedback-ID: <campaign id>:<SenderId>" (the header the largest mailbox
    // provider reports complaint rates by, per campaign): 1-64 of A-Z a-z 0-9 . _ -. Empty:
    // the From address's domain.
    std::string feedbackSenderId;
    // List-Id (RFC 2919): the list the campaign is sent to, one of its groups (the engine
    // takes the one with the lowest id). Its list-id is label + "." + the From address's
    // domain (a namespace the sender controls), the name its phrase (RFC 2047 when not ASCII).
    // Empty: no List-Id.
    struct ListIdentity {
        std::string name;   // the group's name, as it is
        std::string label;  // listLabel(): letters, digits and '-' only
    };
    std::optional<ListIdentity> list;
    // Signs every rendered message (DKIM-Signature fields first); null: unsigned. The signer
    // of the campaign's From domain (signerFor): a signature of another domain would not align.
    std::shared_ptr<const DkimSigner> dkim;
};

// A group's list-label for List-Id: its name in lower case with every run of characters other
// than ASCII letters and digits made one '-' (none at either end), at most 63 octets; a name
// with no ASCII letter or digit gives "group-<id>". Renaming a group changes its label.
std::string listLabel(std::string_view groupName, Id groupId);

// The domain of a From address as MessageSettings::defaultFrom or a campaign's fromAddress
// give it ("News <news@Example.org>" -> "example.org"); empty when it is not a valid address.
std::string fromDomain(const std::string& from);

// The campaign as one recipient sees it in a browser ("view in browser"): the subject and the
// HTML body rendered for them (values HTML-escaped as in the message), or, for a campaign with
// no HTML, the text body escaped inside <pre>. The HTML is what the message carries; a caller
// that serves it sanitises it again (rules/html_sanitizer.h).
struct BrowserView {
    std::string subject;
    std::string html;
};

struct ComposedMessage {
    std::string envelopeFrom;  // MAIL FROM: the VERP address
    std::string recipient;     // RCPT TO: the recipient's normalised address
    std::string messageId;     // as in the header, with the angle brackets: "<12.345.x@domain>"
    std::string data;          // the message, CRLF line ends, no dot-stuffing, no final "."
};

class CampaignTemplate {
public:
    // Compiles `campaign` (id, subject, htmlContent, textContent, fromAddress) with `settings`.
    // Throws Error(InvalidArgument) naming the field: a template validateTemplate refuses,
    // {{unsubscribe_url}} with no unsubscribe URL or address configured, an invalid From,
    // VERP, Message-ID domain or unsubscribe setting, no content at all, or not UTF-8.
    CampaignTemplate(const Campaign& campaign, const MessageSettings& settings);
    ~CampaignTemplate();
    CampaignTemplate(CampaignTemplate&&) noexcept;
    CampaignTemplate& operator=(CampaignTemplate&&) noexcept;

    // The message for `recipient` (id, email, name), dated now, DKIM-signed when the settings
    // have a signer (once, after everything else is in place). Each call makes a new
    // Message-ID. Throws Error(InvalidArgument) if the recipient's id is not positive or its
    // address is not a valid mailbox. Safe to call from several threads at once.
    ComposedMessage render(const Recipient& recipient) const;
    ComposedMessage render(const Recipient& recipient, std::chrono::system_clock::time_point now) const;

    // The same recipient's message as a browser shows it (see BrowserView). Same errors as render().
    BrowserView renderForBrowser(const Recipient& recipient) const;

    Id campaignId() const;
    // The text/plain template: the campaign's own text, or the one derived from its HTML.
    const std::string& textTemplate() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace campaignd::mail
