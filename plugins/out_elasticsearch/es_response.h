// Reading `_bulk` responses item by item, as fluent-plugin-elasticsearch's error handler does,
// with sluice's retry policy (see README: 429 and 5xx items are retried, not the whole chunk).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::es {

// [begin, end) of each item (action line + document line) in a bulk body.
std::vector<std::pair<size_t, size_t>> split_items(std::string_view payload);

struct ItemFailure {
  enum Kind { Retry, Dead } kind = Retry;
  size_t index = 0;  // position of the item in the request
  int status = 0;
  std::string type;        // error.type (or the error string)
  std::string error_json;  // the item's `error` as JSON (for dead letters)
};

struct BulkResult {
  bool ok = false;        // the body was understood
  std::string problem;    // when not ok
  size_t items = 0;       // items in the response
  size_t succeeded = 0;
  size_t duplicates = 0;  // 409 on create: already there
  std::vector<ItemFailure> failures;
};

// `expected`: items sent. `op`: write_operation. `unrecoverable`: error types dead-lettered
// whatever their status (json_parse_exception always is).
BulkResult read_bulk_response(std::string_view body, std::string_view op, size_t expected,
                              const std::vector<std::string>& unrecoverable);

}  // namespace sluice::es
