// One `<rule>` of rewrite_tag_filter and the tag it builds: `$N` back-references first, then the
// placeholders `${tag}`, `__TAG__`, `${hostname}`, `__HOSTNAME__`, `${tag_parts[N]}`, as
// fluent-plugin-rewrite-tag-filter 2.4 expands them (two gsubs, in that order).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "../parser_none/parser_common.h"
#include "config/params.h"
#include "format/record_path.h"

namespace sluice::rewrite {

// What the placeholders of one incoming tag stand for.
struct TagContext {
  std::string tag;  // after remove_tag_prefix
  std::vector<std::string_view> parts;
  const std::string* hostname = nullptr;
  void set(std::string_view incoming, std::string_view remove_prefix);
};

class Rule {
 public:
  // Throws ConfigException (at `pos`) for a key or pattern that does not compile.
  Rule(const SourcePos& pos, const std::string& key, const RegexpValue& pattern, std::string tag, bool invert);

  // The new tag when this rule applies to `value` (the field's to_s), else false. Unknown
  // placeholders expand to "" and are named in `unknown`.
  bool apply(std::string_view value, const TagContext& ctx, bool capitalize, std::string& out,
             std::string& unknown);

  const RecordPath& path() const { return path_; }
  // For duplicate detection: key, invert mark and pattern, as the plugin compares them.
  std::string identity() const { return key_ + (invert_ ? "!" : "") + pattern_text_; }

 private:
  void expand_placeholders(std::string_view tag, const TagContext& ctx, std::string& out,
                           std::string& unknown) const;

  std::string key_, pattern_text_, tag_;
  RecordPath path_;
  std::unique_ptr<parsers::RubyRegex> regex_;
  std::unique_ptr<parsers::RubyRegex::Matcher> matcher_;
  bool invert_;
  std::string scrubbed_, with_backrefs_;
};

}  // namespace sluice::rewrite
