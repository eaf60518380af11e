#include "form.h"

#include "http/ascii.h"

namespace sluice::in_http {

std::string unescape_form(std::string_view s) { return http::percent_decode(s, true); }

void decode_form(std::string_view text, FormFields& out) {
  while (!text.empty()) {
    size_t end = text.find_first_of("&;");
    std::string_view pair = text.substr(0, end);
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    out.emplace_back(unescape_form(pair.substr(0, eq)),
                     eq == std::string_view::npos ? std::string() : unescape_form(pair.substr(eq + 1)));
  }
}

const std::string* form_value(const FormFields& fields, std::string_view key) {
  for (auto& [k, v] : fields)
    if (k == key) return &v;
  return nullptr;
}

}  // namespace sluice::in_http
