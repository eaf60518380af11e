// libFuzzer target, differential: whatever the flat-object reader of the json parser accepts
// (plugins/parser_json/flat_object.h, the path that skips simdjson), simdjson On Demand, which
// parses every line the reader declines, must read as the same members, in order, with the same
// key and value bytes, and with nothing after the object. The reader must never accept a line
// simdjson rejects, and never decode a string differently. Its escapes are read both ways, 32
// bytes at a time (plugins/parser_json/unescape_blocks.h, with AVX2 or AVX-512) and one at a
// time: both must accept the same lines as the same members (blocks the CPU's best way).
#include <simdjson.h>

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "fuzz_support.h"
#include "../../plugins/parser_json/flat_object.h"
#include "../../plugins/parser_json/unescape_blocks.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace od = simdjson::ondemand;
  static sluice::Arena arena;
  static sluice::parsers::FlatObjectReader reader;
  static od::parser parser;
  static const sluice::parsers::Unescaper blocks = sluice::parsers::unescaper();
  arena.reset();
  const std::string_view line(reinterpret_cast<const char*>(data), size);
  sluice::parsers::use_unescaper(sluice::parsers::Unescaper::OneAtATime);
  const bool accepted_one_at_a_time = reader.read(line, arena);
  const std::vector<sluice::parsers::FlatMember> one_at_a_time(reader.members().begin(),
                                                                reader.members().end());
  sluice::parsers::use_unescaper(blocks);
  const bool accepted = reader.read(line, arena);
  SLUICE_FUZZ_CHECK(accepted == accepted_one_at_a_time);
  if (!accepted) return 0;
  const auto members = reader.members();
  SLUICE_FUZZ_CHECK(members.size() == one_at_a_time.size());
  for (size_t m = 0; m < members.size(); ++m) {
    SLUICE_FUZZ_CHECK(members[m].key == one_at_a_time[m].key);
    SLUICE_FUZZ_CHECK(members[m].value == one_at_a_time[m].value);
  }
  SLUICE_FUZZ_CHECK(!members.empty());

  const simdjson::padded_string padded(line);
  od::document doc;
  SLUICE_FUZZ_CHECK(!parser.iterate(padded).get(doc));
  od::object obj;
  SLUICE_FUZZ_CHECK(!doc.get_object().get(obj));
  size_t i = 0;
  for (auto member : obj) {
    od::field field;
    SLUICE_FUZZ_CHECK(!std::move(member).get(field));
    std::string_view key, value;
    SLUICE_FUZZ_CHECK(!field.unescaped_key().get(key));
    SLUICE_FUZZ_CHECK(!field.value().get_string().get(value));
    SLUICE_FUZZ_CHECK(i < members.size());
    SLUICE_FUZZ_CHECK(key == members[i].key);
    SLUICE_FUZZ_CHECK(value == members[i].value);
    ++i;
  }
  SLUICE_FUZZ_CHECK(i == members.size());
  const char* end = nullptr;  // as the json parser checks for trailing content
  SLUICE_FUZZ_CHECK(doc.current_location().get(end) || end == nullptr || end >= padded.data() + size);
  return 0;
}
