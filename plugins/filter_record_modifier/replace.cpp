#include "replace.h"

#include <oniguruma.h>

#include <mutex>
#include <stdexcept>

#include "char_encoding.h"

namespace sluice::record_modifier {

namespace {

std::once_flag g_onig_once;

OnigRegex compile(std::string_view pattern, OnigEncoding enc, std::string* error) {
  std::call_once(g_onig_once, [] {
    OnigEncoding encs[] = {ONIG_ENCODING_UTF8, ONIG_ENCODING_ASCII};
    onig_initialize(encs, 2);
  });
  OnigRegex re = nullptr;
  OnigErrorInfo info;
  const auto* p = reinterpret_cast<const OnigUChar*>(pattern.data());
  int r = onig_new(&re, p, p + pattern.size(), ONIG_OPTION_NONE, enc, ONIG_SYNTAX_RUBY, &info);
  if (r == ONIG_NORMAL) return re;
  if (error) {
    OnigUChar buf[ONIG_MAX_ERROR_MESSAGE_LEN];
    int n = onig_error_code_to_str(buf, r, &info);
    error->assign(reinterpret_cast<char*>(buf), static_cast<size_t>(n > 0 ? n : 0));
  }
  return nullptr;
}

bool valid_utf8(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* end = p + s.size();
  while (p < end) {
    if (*p < 0x80) {
      ++p;
      continue;
    }
    bool complete;
    p += utf8_unit(p, end, complete);
    if (!complete) return false;
  }
  return true;
}

}  // namespace

Substitution::Substitution(std::string_view pattern, std::string replacement)
    : replacement_(std::move(replacement)) {
  std::string error;
  utf8_ = compile(pattern, ONIG_ENCODING_UTF8, &error);
  if (!utf8_) throw std::invalid_argument(error);
  bytes_ = compile(pattern, ONIG_ENCODING_ASCII, nullptr);
  region_ = onig_region_new();
}

Substitution::~Substitution() {
  if (region_) onig_region_free(region_, 1);
  if (utf8_) onig_free(utf8_);
  if (bytes_) onig_free(bytes_);
}

void Substitution::append_replacement(std::string& out, std::string_view s, OnigRegexType* re) const {
  auto group = [&](int n) {
    if (n < 0 || n >= region_->num_regs || region_->beg[n] < 0) return;
    out.append(s.substr(static_cast<size_t>(region_->beg[n]),
                        static_cast<size_t>(region_->end[n] - region_->beg[n])));
  };
  const std::string& r = replacement_;
  for (size_t i = 0; i < r.size(); ++i) {
    if (r[i] != '\\' || i + 1 >= r.size()) {
      out.push_back(r[i]);
      continue;
    }
    char e = r[i + 1];
    if (e >= '0' && e <= '9') {
      group(e - '0');
      ++i;
    } else if (e == '&') {
      group(0);
      ++i;
    } else if (e == '`') {
      out.append(s.substr(0, static_cast<size_t>(region_->beg[0])));
      ++i;
    } else if (e == '\'') {
      out.append(s.substr(static_cast<size_t>(region_->end[0])));
      ++i;
    } else if (e == '\\') {
      out.push_back('\\');
      ++i;
    } else if (e == 'k' && i + 2 < r.size() && r[i + 2] == '<') {
      size_t close = r.find('>', i + 3);
      if (close == std::string::npos) {
        out.push_back('\\');
        continue;
      }
      std::string_view name(r.data() + i + 3, close - i - 3);
      const auto* nb = reinterpret_cast<const OnigUChar*>(name.data());
      int n = onig_name_to_backref_number(re, nb, nb + name.size(), region_);
      if (n < 0) throw std::invalid_argument("undefined group name reference: " + std::string(name));
      group(n);
      i = close;
    } else {
      out.push_back('\\');  // an unknown escape stays as written
    }
  }
}

bool Substitution::gsub(std::string_view s, std::string& out) {
  OnigRegex re = utf8_;
  bool bytewise = !valid_utf8(s);
  if (bytewise) {
    if (!bytes_) throw std::invalid_argument("invalid byte sequence in UTF-8");
    re = bytes_;
  }
  const auto* start = reinterpret_cast<const OnigUChar*>(s.data());
  const auto* end = start + s.size();
  out.clear();
  size_t at = 0;
  bool matched = false;
  while (at <= s.size()) {
    onig_region_clear(region_);
    int r = onig_search(re, start, end, start + at, end, region_, ONIG_OPTION_NONE);
    if (r < 0) break;
    matched = true;
    size_t b = static_cast<size_t>(region_->beg[0]), e = static_cast<size_t>(region_->end[0]);
    out.append(s.substr(at, b - at));
    append_replacement(out, s, re);
    if (e > b) {
      at = e;
      continue;
    }
    // An empty match: keep the next character and search after it.
    if (b >= s.size()) {
      at = s.size() + 1;
      break;
    }
    size_t n = 1;
    if (!bytewise) {
      bool complete;
      n = utf8_unit(start + b, end, complete);
    }
    out.append(s.substr(b, n));
    at = b + n;
  }
  if (!matched) return false;
  if (at <= s.size()) out.append(s.substr(at));
  return true;
}

}  // namespace sluice::record_modifier
