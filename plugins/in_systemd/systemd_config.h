// Configuration pieces of the journal input that need no journal: the small JSON reader for
// `matches`/`field_map`/the cursor file, and the `<entry>` field mutator.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sluice::systemd {

// A JSON value as config needs it: scalars are kept as their text (strings unescaped).
struct JsonMember;
struct JsonValue {
  enum Kind { Scalar, Array, Object } kind = Scalar;
  std::string text;
  std::vector<JsonValue> items;     // Array
  std::vector<JsonMember> members;  // Object, in order
};
// A struct rather than std::pair: a pair of an incomplete JsonValue does not compile with Clang.
struct JsonMember {
  std::string key;
  JsonValue value;
};

// Parses one JSON text; nullopt (with `error` set) when malformed.
std::optional<JsonValue> parse_json(std::string_view text, std::string* error = nullptr);

// `matches`: OR of groups, each an AND of field=value terms (a field given several values matches
// any of them). Each term is "FIELD=value".
using MatchGroups = std::vector<std::vector<std::string>>;
// Throws std::runtime_error with a message on a malformed value.
MatchGroups parse_matches(std::string_view text);

// The `<entry>` section: field_map, field_map_strict, fields_strip_underscores, fields_lowercase.
class EntryMutator {
 public:
  struct Options {
    std::vector<std::pair<std::string, std::vector<std::string>>> field_map;  // source -> new names
    bool field_map_strict = false;
    bool strip_underscores = false;
    bool lowercase = false;
  };
  explicit EntryMutator(Options o);
  // Throws std::runtime_error for a malformed field_map.
  static std::vector<std::pair<std::string, std::vector<std::string>>> parse_field_map(std::string_view text);

  bool identity() const { return map_.empty() && !opts_.strip_underscores && !opts_.lowercase; }

  // `fields` are the entry's (key, value) pairs, one per distinct key. Returns the record's
  // fields; mapped values are joined with a space (as the Ruby mutator does), so they are new
  // strings kept in `storage`.
  std::vector<std::pair<std::string_view, std::string_view>> run(
      const std::vector<std::pair<std::string_view, std::string_view>>& fields,
      std::vector<std::string>& storage) const;
  // The output name of a key after strip/lowercase.
  std::string format_key(std::string_view key) const;

 private:
  Options opts_;
  std::vector<std::pair<std::string, std::vector<std::string>>> map_;  // new name -> sources, in order
  std::vector<std::string> sources_;
};

// The cursor file of `<storage @type local>`: {"journal": "<cursor>"}.
std::string cursor_file_text(std::string_view cursor);
std::optional<std::string> cursor_from_file_text(std::string_view text);

}  // namespace sluice::systemd
