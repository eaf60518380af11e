#include "ruby/regexp.h"

#include <oniguruma.h>

#include <mutex>
#include <stdexcept>

#include "format/utf8_scrub.h"

namespace sluice::ruby {

namespace {

std::once_flag g_onig_once;

OnigRegex compile(std::string_view pattern, OnigOptionType options, OnigEncoding enc, std::string* error) {
  std::call_once(g_onig_once, [] {
    OnigEncoding encs[] = {ONIG_ENCODING_UTF8, ONIG_ENCODING_ASCII};
    onig_initialize(encs, 2);
  });
  OnigRegex re = nullptr;
  OnigErrorInfo info;
  const auto* p = reinterpret_cast<const OnigUChar*>(pattern.data());
  int r = onig_new(&re, p, p + pattern.size(), options, enc, ONIG_SYNTAX_RUBY, &info);
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
    const size_t n = utf8_sequence_length(p, end);
    if (n == 0) return false;
    p += n;
  }
  return true;
}

}  // namespace

Regexp::Regexp(std::string_view pattern, std::string_view flags) : source_(pattern), flags_(flags) {
  OnigOptionType options = ONIG_OPTION_NONE;
  for (char f : flags) {
    if (f == 'i') options |= ONIG_OPTION_IGNORECASE;
    else if (f == 'm') options |= ONIG_OPTION_MULTILINE;  // Ruby's m: `.` matches a newline
    else if (f == 'x') options |= ONIG_OPTION_EXTEND;
    else throw std::invalid_argument(std::string("unknown regexp option: ") + f);
  }
  std::string error;
  utf8_ = compile(pattern, options, ONIG_ENCODING_UTF8, &error);
  if (!utf8_) throw std::invalid_argument(error);
  bytes_ = compile(pattern, options, ONIG_ENCODING_ASCII, nullptr);
  region_ = onig_region_new();
}

Regexp::~Regexp() {
  if (region_) onig_region_free(region_, 1);
  if (utf8_) onig_free(utf8_);
  if (bytes_) onig_free(bytes_);
}

bool Regexp::search(std::string_view s, size_t from) {
  bytewise_ = !valid_utf8(s);
  last_ = bytewise_ ? bytes_ : utf8_;
  if (!last_) throw std::invalid_argument("invalid byte sequence in UTF-8");
  subject_ = s;
  return search_on(from);
}

bool Regexp::search_on(size_t from) {
  if (from > subject_.size()) return false;
  const auto* start = reinterpret_cast<const OnigUChar*>(subject_.data());
  const auto* end = start + subject_.size();
  onig_region_clear(region_);
  return onig_search(last_, start, end, start + from, end, region_, ONIG_OPTION_NONE) >= 0;
}

std::optional<std::string_view> Regexp::group(int n) const {
  if (n < 0 || n >= region_->num_regs || region_->beg[n] < 0) return std::nullopt;
  return subject_.substr(size_t(region_->beg[n]), size_t(region_->end[n] - region_->beg[n]));
}

int Regexp::groups() const { return onig_number_of_captures(utf8_); }

int Regexp::group_number(std::string_view name) const {
  const auto* nb = reinterpret_cast<const OnigUChar*>(name.data());
  OnigRegex re = last_ ? last_ : utf8_;
  int n = onig_name_to_backref_number(re, nb, nb + name.size(), region_);
  return n < 0 ? -1 : n;
}

size_t Regexp::match_begin() const { return size_t(region_->beg[0]); }
size_t Regexp::match_end() const { return size_t(region_->end[0]); }

size_t Regexp::char_length(std::string_view s, size_t at) const {
  if (bytewise_ || at >= s.size()) return 1;
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = utf8_sequence_length(p + at, p + s.size());
  return n == 0 ? 1 : n;
}

void Regexp::append_replacement(std::string& out, std::string_view r) const {
  auto put_group = [&](int n) {
    if (auto g = group(n)) out.append(*g);
  };
  for (size_t i = 0; i < r.size(); ++i) {
    if (r[i] != '\\' || i + 1 >= r.size()) {
      out.push_back(r[i]);
      continue;
    }
    const char e = r[i + 1];
    if (e >= '0' && e <= '9') {
      put_group(e - '0');
      ++i;
    } else if (e == '&') {
      put_group(0);
      ++i;
    } else if (e == '`') {
      out.append(subject_.substr(0, match_begin()));
      ++i;
    } else if (e == '\'') {
      out.append(subject_.substr(match_end()));
      ++i;
    } else if (e == '\\') {
      out.push_back('\\');
      ++i;
    } else if (e == 'k' && i + 2 < r.size() && r[i + 2] == '<') {
      const size_t close = r.find('>', i + 3);
      if (close == std::string_view::npos) {
        out.push_back('\\');
        continue;
      }
      const std::string_view name = r.substr(i + 3, close - i - 3);
      const int n = group_number(name);
      if (n < 0) throw std::invalid_argument("undefined group name reference: " + std::string(name));
      put_group(n);
      i = close;
    } else {
      out.push_back('\\');  // an unknown escape stays as written
    }
  }
}

bool Regexp::substitute(std::string_view s, std::string_view replacement, bool all, std::string& out) {
  size_t at = 0;
  bool matched = false;
  std::string result;
  for (bool found = search(s, 0); found; found = search_on(at)) {
    matched = true;
    const size_t b = match_begin(), e = match_end();
    result.append(s.substr(at, b - at));
    append_replacement(result, replacement);
    if (!all) {
      at = e;
      break;
    }
    if (e > b) {
      at = e;
      continue;
    }
    // An empty match: keep the next character and search after it.
    if (b >= s.size()) {
      at = s.size() + 1;
      break;
    }
    const size_t n = char_length(s, b);
    result.append(s.substr(b, n));
    at = b + n;
  }
  if (!matched) return false;
  if (at <= s.size()) result.append(s.substr(at));
  out = std::move(result);
  return true;
}

}  // namespace sluice::ruby
