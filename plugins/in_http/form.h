// `application/x-www-form-urlencoded` text (a query string or a form body), decoded as WEBrick's
// HTTPUtils.parse_query does: pairs split on `&` and `;`, `+` is a space, `%XX` a byte (a `%`
// not followed by two hex digits stays as it is), a pair without `=` has an empty value.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sluice::in_http {

using FormFields = std::vector<std::pair<std::string, std::string>>;

void decode_form(std::string_view text, FormFields& out);
std::string unescape_form(std::string_view s);

// The value of the first field named `key`, or null.
const std::string* form_value(const FormFields& fields, std::string_view key);

}  // namespace sluice::in_http
