// pages.h: the HTML campaignd-web answers with: plain HTML and one inline stylesheet, no
// JavaScript, no external resources, readable in a text browser and on a phone. Every value
// from the daemon is escaped (request.h escapeHtml); the view page carries the campaign's HTML
// as the daemon sanitised it.
#pragma once

#include <string>

namespace campaignd::web {

struct Description {
    std::string sender;
    std::string campaignName;
    std::string maskedAddress;
    bool unsubscribed = false;
};

// The one page for every unknown, forged or altered link: it says nothing about why.
std::string notFoundPage();
// The unsubscribe page: who sends what to whom (masked), and one button (a form POST to the
// same URL). For someone already unsubscribed, it says so instead.
std::string unsubscribePage(const Description& d);
// After the button: "you are unsubscribed".
std::string confirmationPage(const Description& d);
// The campaign as received: its subject as the title, its sanitised HTML as the body.
std::string viewPage(const std::string& subject, const std::string& html);
// A short page for other refusals ("Method not allowed", "Try again later").
std::string errorPage(const std::string& title, const std::string& text);

}  // namespace campaignd::web
