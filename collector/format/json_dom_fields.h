// A JSON object read with simdjson's DOM API, as record fields. Header-only, for the plugins that
// link simdjson (the core does not).
#pragma once

#include <simdjson.h>

#include <string_view>

#include "core/event.h"

namespace sluice {

// Appends the object's members to the batch's last record, keys and texts copied into the batch's
// arena: strings as String, integers, floats, booleans and null as such, maps and arrays as Json
// (minified).
inline void add_dom_fields(Batch& batch, simdjson::dom::object object) {
  for (auto member : object) {
    simdjson::dom::element v = member.value;
    Value value;
    switch (v.type()) {
      case simdjson::dom::element_type::STRING: value = Value::of_string(batch.arena.copy(std::string_view(v))); break;
      case simdjson::dom::element_type::INT64: value = Value::of_int(int64_t(v)); break;
      case simdjson::dom::element_type::UINT64: value = Value::of_int(int64_t(uint64_t(v))); break;
      case simdjson::dom::element_type::DOUBLE: value = Value::of_float(double(v)); break;
      case simdjson::dom::element_type::BOOL: value = Value::of_bool(bool(v)); break;
      case simdjson::dom::element_type::NULL_VALUE: value = Value::null(); break;
      default: value = Value::of_json(batch.arena.copy(simdjson::minify(v))); break;
    }
    batch.add_field(batch.arena.copy(member.key), value);
  }
}

}  // namespace sluice
