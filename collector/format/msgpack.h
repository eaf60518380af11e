// A small msgpack encoder appending to a std::string, for the forward output and the file
// buffer. Integers and headers use the smallest encoding, as msgpack-ruby (Fluentd) does:
// non-negative integers as positive fixint/uint8..64, negative ones as negative fixint/int8..64.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/event.h"

namespace sluice::msgpack {

void append_nil(std::string& out);
void append_bool(std::string& out, bool b);
void append_int(std::string& out, int64_t i);
void append_uint(std::string& out, uint64_t u);
void append_double(std::string& out, double d);  // always float64 (0xcb), as Ruby does
void append_str_header(std::string& out, uint32_t len);
void append_str(std::string& out, std::string_view s);
void append_bin_header(std::string& out, uint32_t len);
void append_bin(std::string& out, std::string_view b);
void append_array_header(std::string& out, uint32_t n);
void append_map_header(std::string& out, uint32_t n);
void append_ext_header(std::string& out, int8_t type, uint32_t len);

// Fluentd's EventTime: ext type 0 as fixext8 (d7 00, be32 sec, be32 nsec). An integer time
// (EventTime::integer) is written as a plain integer, as Fluentd keeps it.
void append_event_time(std::string& out, EventTime t);

// One record value. Json values are spliced from `packed` when it is set, else converted
// from the JSON text (a text that fails to convert is written as a msgpack string of it).
void append_value(std::string& out, const Value& v);

// The record as a map: its fields, then the batch's common fields.
void append_record(std::string& out, const Batch& batch, const Record& record);

// `[time, record]`, one entry of a Forward/PackedForward event stream.
void append_entry(std::string& out, const Batch& batch, const Record& record);

// Converts one JSON text (any value; surrounding whitespace allowed) to msgpack. Numbers
// without fraction or exponent that fit int64/uint64 become integers, others float64.
// Bounded: nesting deeper than max_depth fails. On failure returns false and leaves `out`
// as it was.
bool append_json(std::string& out, std::string_view json, int max_depth = 128);

}  // namespace sluice::msgpack
