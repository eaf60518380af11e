// The records of a request body in Fluentd in_http's default formats (`json=`, `ndjson=`,
// `msgpack=` or the same as whole bodies), appended to a Batch with keys and values copied into
// its arena, and the record time rule of Fluentd's in_http parser.
#pragma once

#include <simdjson.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/event.h"
#include "format/time.h"

namespace sluice::in_http {

// What a body held besides its records. Fluentd skips elements of an array that are not maps
// (and ndjson lines that are not JSON maps) and emits the rest.
struct BodyInfo {
  size_t skipped = 0;
  std::string skip_reason;  // why the first one was skipped
};

// The record time when the request gives none (`time` parameter): Fluentd's in_http parser takes
// `time_key` out of the record (keeps it with keep_time_key): a number is seconds since the epoch,
// a string needs time_format/time_type, and a missing, null or false field means now.
struct RecordTime {
  std::string key = "time";
  bool keep = false;
  std::optional<TimeParser> parser;
};

// What each record gets once decoded: its time, `fixed` (the `time` parameter, or now) or from its
// field when `from_field` is set (`fixed` being now then), and the request's fields (HTTP_*,
// QUERY_*, REMOTE_ADDR), which replace record fields of the same name as Ruby's Hash#[]= does.
struct RecordStamp {
  const RecordTime* from_field = nullptr;
  EventTime fixed;
  const std::vector<Field>* extra = nullptr;
};

// The decoders below append records and stamp each as it is added. They return false (with
// `error`, for a 400) for a body that is not what it claims to be, or a record whose time field
// cannot be a time; the batch may then hold some records, to be dropped.

// A JSON object, or an array whose object elements are records.
bool add_json_records(simdjson::dom::parser& parser, std::string_view text, const RecordStamp& stamp,
                      Batch& batch, BodyInfo& info, std::string& error);
// One JSON object per line (CRLF or LF); other lines are skipped.
bool add_ndjson_records(simdjson::dom::parser& parser, std::string_view text, const RecordStamp& stamp,
                        Batch& batch, BodyInfo& info, std::string& error);
// One or more msgpack objects, each a map or an array of maps (nesting at most 64 deep).
bool add_msgpack_records(std::string_view bytes, const RecordStamp& stamp, Batch& batch, BodyInfo& info,
                         std::string& error);

// Stamps the last record; false, with `error`, when its time field is not a time.
bool stamp_last_record(Batch& batch, const RecordStamp& stamp, std::string& error);

// Fluentd's `time` request parameter: Ruby's String#to_f of it, 0 meaning now.
EventTime time_param(std::string_view text, EventTime now);

}  // namespace sluice::in_http
