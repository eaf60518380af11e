// JSON writing as Fluentd's serializers do it: compact, insertion order, `/<>&` and non-ASCII
// left raw, invalid UTF-8 bytes written raw, control characters as \u00XX. Oj (out_stdout and
// the Elasticsearch plugin) writes the hex in lower case, Yajl (out_file) in upper case.
#pragma once

#include <string>
#include <string_view>

#include "core/event.h"

namespace sluice::json {

enum class HexCase { Lower, Upper };

void append_string(std::string& out, std::string_view bytes, HexCase hex = HexCase::Lower);
void append_value(std::string& out, const Value& v, HexCase hex = HexCase::Lower);
// `{"k":v,...}` with the record's fields then the batch's common fields. `extra` fields (such as
// `@timestamp` and `tag` for Elasticsearch) are not added here; formatters append them by
// calling append_member before close.
void append_record(std::string& out, const Batch& batch, const Record& record,
                   HexCase hex = HexCase::Lower);
// Opens `{` and writes the members without the closing brace, so a caller can add more.
// Returns whether any member was written (to place the next comma).
bool append_record_open(std::string& out, const Batch& batch, const Record& record,
                        HexCase hex = HexCase::Lower);
void append_member(std::string& out, bool& first, std::string_view key, const Value& v,
                   HexCase hex = HexCase::Lower);
// Ruby's Float#to_s for finite values (1.5, 100.0, 1.0e+20); NaN/Infinity become null.
void append_double(std::string& out, double d);

}  // namespace sluice::json
