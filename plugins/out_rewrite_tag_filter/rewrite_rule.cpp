#include "rewrite_rule.h"

#include <cctype>
#include <stdexcept>

#include "format/utf8_scrub.h"

namespace sluice::rewrite {

void TagContext::set(std::string_view incoming, std::string_view remove_prefix) {
  // Ruby: tag.sub(/^#{Regexp.escape(prefix)}\.?/, '')
  if (!remove_prefix.empty() && incoming.substr(0, remove_prefix.size()) == remove_prefix) {
    incoming.remove_prefix(remove_prefix.size());
    if (!incoming.empty() && incoming[0] == '.') incoming.remove_prefix(1);
  }
  tag.assign(incoming);
  parts.clear();
  std::string_view rest = tag;
  while (true) {
    size_t dot = rest.find('.');
    parts.push_back(rest.substr(0, dot));
    if (dot == std::string_view::npos) break;
    rest.remove_prefix(dot + 1);
  }
  // Ruby's split drops trailing empty parts.
  while (!parts.empty() && parts.back().empty()) parts.pop_back();
}

Rule::Rule(const SourcePos& pos, const std::string& key, const RegexpValue& pattern, std::string tag, bool invert)
    : key_(key), pattern_text_(pattern.pattern), tag_(std::move(tag)), invert_(invert) {
  try {
    path_ = RecordPath(key);
  } catch (const std::exception& e) {
    throw ConfigException(pos, std::string("rewrite_tag_filter: invalid key: ") + e.what());
  }
  try {
    regex_ = std::make_unique<parsers::RubyRegex>(pattern.pattern, pattern.ignore_case, pattern.multiline);
  } catch (const std::exception& e) {
    throw ConfigException(pos, "rewrite_tag_filter: invalid pattern /" + pattern.pattern + "/: " + e.what());
  }
  matcher_ = std::make_unique<parsers::RubyRegex::Matcher>(*regex_);
}

bool Rule::apply(std::string_view value, const TagContext& ctx, bool capitalize, std::string& out,
                 std::string& unknown) {
  if (value.empty() && !invert_) return false;
  // The plugin matches the scrubbed value when it is not valid UTF-8.
  bool matched = matcher_->search(scrub_utf8(value, scrubbed_));
  if (matched == !invert_) {
    std::string_view tag = tag_;
    if (!invert_) {
      // gsub(/\$\d+/, table): $N is capture N ("" when it did not take part or does not exist).
      with_backrefs_.clear();
      for (size_t i = 0; i < tag_.size(); ++i) {
        if (tag_[i] != '$' || i + 1 >= tag_.size() || !std::isdigit(static_cast<unsigned char>(tag_[i + 1]))) {
          with_backrefs_.push_back(tag_[i]);
          continue;
        }
        size_t j = i + 1;
        int n = 0;
        while (j < tag_.size() && std::isdigit(static_cast<unsigned char>(tag_[j]))) {
          if (n < 100000) n = n * 10 + (tag_[j] - '0');
          ++j;
        }
        std::string_view cap;
        if (matcher_->capture(n, cap)) {
          size_t at = with_backrefs_.size();
          with_backrefs_.append(cap);
          if (capitalize && at < with_backrefs_.size()) {
            // Ruby's String#capitalize (ASCII letters here).
            with_backrefs_[at] = static_cast<char>(std::toupper(static_cast<unsigned char>(with_backrefs_[at])));
            for (size_t k = at + 1; k < with_backrefs_.size(); ++k)
              with_backrefs_[k] = static_cast<char>(std::tolower(static_cast<unsigned char>(with_backrefs_[k])));
          }
        }
        i = j - 1;
      }
      tag = with_backrefs_;
    }
    out.clear();
    expand_placeholders(tag, ctx, out, unknown);
    return true;
  }
  return false;
}

// gsub(/(\$\{[a-z_]+(\[[0-9]+\])?\}|__[A-Z_]+__)/) { placeholder[$1] }
void Rule::expand_placeholders(std::string_view tag, const TagContext& ctx, std::string& out,
                               std::string& unknown) const {
  size_t i = 0;
  while (i < tag.size()) {
    size_t end = std::string_view::npos;
    if (tag.substr(i, 2) == "${") {
      size_t j = i + 2;
      while (j < tag.size() && (std::islower(static_cast<unsigned char>(tag[j])) || tag[j] == '_')) ++j;
      if (j > i + 2 && j < tag.size() && tag[j] == '[') {
        size_t k = j + 1;
        while (k < tag.size() && std::isdigit(static_cast<unsigned char>(tag[k]))) ++k;
        if (k > j + 1 && k + 1 < tag.size() && tag[k] == ']' && tag[k + 1] == '}') end = k + 2;
      } else if (j > i + 2 && j < tag.size() && tag[j] == '}') {
        end = j + 1;
      }
    } else if (tag.substr(i, 2) == "__") {
      size_t j = i + 2;
      while (j < tag.size() && (std::isupper(static_cast<unsigned char>(tag[j])) || tag[j] == '_')) ++j;
      // The longest run of [A-Z_] ending in "__", as the regexp backtracks to.
      for (size_t e = j; e >= i + 5; --e)
        if (tag.substr(e - 2, 2) == "__") {
          end = e;
          break;
        }
    }
    if (end == std::string_view::npos) {
      out.push_back(tag[i++]);
      continue;
    }
    std::string_view name = tag.substr(i, end - i);
    if (name == "${tag}" || name == "__TAG__") {
      out += ctx.tag;
    } else if (name == "${hostname}" || name == "__HOSTNAME__") {
      if (ctx.hostname) out += *ctx.hostname;
    } else if (name.substr(0, 12) == "${tag_parts[") {
      size_t n = std::stoul(std::string(name.substr(12, name.size() - 14)).substr(0, 9));
      if (n < ctx.parts.size()) out += ctx.parts[n];
      else unknown = name;
    } else {
      unknown = name;
    }
    i = end;
  }
}

}  // namespace sluice::rewrite
