// Fluentd's tag placeholders in output paths (out_file's `path`, secondary_file's `directory`
// and `basename`): `${tag}` and `${tag[N]}`, N counting the tag's dot-separated parts from 0, or
// from -1 backwards.
#pragma once

#include <string>
#include <string_view>

namespace sluice {

// `text` with its tag placeholders replaced; any other `${...}` is left as it is. A part the tag
// does not have becomes empty, and the first such placeholder (as written, `${tag[3]}`) is put in
// `missing` when given.
std::string expand_tag_placeholders(std::string_view text, std::string_view tag, std::string* missing = nullptr);

}  // namespace sluice
