#include "form.h"

namespace sluice::in_http {

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string unescape_form(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '+') {
      out += ' ';
    } else if (c == '%' && i + 2 < s.size() && hex_digit(s[i + 1]) >= 0 && hex_digit(s[i + 2]) >= 0) {
      out += char(hex_digit(s[i + 1]) << 4 | hex_digit(s[i + 2]));
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}

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
