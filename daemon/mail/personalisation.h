// personalisation.h: the mustache variables a campaign may use in its subject and bodies, and
// the check the campaign service runs on them before a campaign is stored. Known variables:
// {{name}}, {{email}}, {{unsubscribe_url}}, {{view_url}} ("view in browser"); sections on them ({{#name}}Dear {{name}}{{/name}}
// {{^name}}Hello{{/name}}) and comments ({{! ... }}) are allowed. Refused: any other name,
// triple mustaches {{{x}}} and {{&x}} (values are always escaped as the part needs, so
// recipient data can never become markup), partials {{>x}} and delimiter changes {{=<% %>=}}.
#pragma once

#include <span>
#include <string>
#include <string_view>

namespace campaignd::mail {

// "name", "email", "unsubscribe_url", "view_url".
std::span<const std::string_view> templateVariables();

// Empty if `text` is a valid template for a campaign; otherwise a message saying what is wrong
// and where (line number), listing the known variables when the name is unknown.
std::string validateTemplate(std::string_view text);

// validateTemplate for the HTML body, and where its variables stand: a variable may not start
// the value of a URL attribute (href, src, background, cite, action, formaction, poster), where a
// recipient's value would choose the link's scheme ("javascript:..."), except
// {{unsubscribe_url}} and {{view_url}}, which campaignd builds, nor follow a start that leaves the
// scheme open ("j{{name}}": the value could finish "javascript:"; the start must hold the
// scheme's ':' or a '/', '?' or '#'); and none may stand in a style
// attribute or a <style> element, where a value would be CSS. Values are always HTML-escaped;
// this is about what they would mean where they land.
std::string validateHtmlTemplate(std::string_view html);

}  // namespace campaignd::mail
