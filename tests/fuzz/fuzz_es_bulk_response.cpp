// libFuzzer target: out_elasticsearch's `_bulk` response reader (es::read_bulk_response, item
// by item with the retry/dead-letter policy) and the request splitter es::split_items, on the
// same bytes. Checks the accounting: every item is counted once, failures are in order and
// their `error` JSON converts.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "../../plugins/out_elasticsearch/es_response.h"
#include "fuzz_support.h"

namespace es = sluice::es;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view body(reinterpret_cast<const char*>(data), size);
  static const std::vector<std::string> unrecoverable = {"mapper_parsing_exception", "es_rejected_execution_exception"};
  // First with a count that is usually wrong, then with the count the response has.
  es::BulkResult first = es::read_bulk_response(body, "index", 3, unrecoverable);
  for (std::string_view op : {"index", "create"}) {
    es::BulkResult r = es::read_bulk_response(body, op, first.items, unrecoverable);
    if (!r.ok) {
      SLUICE_FUZZ_CHECK(!r.problem.empty());
      continue;
    }
    SLUICE_FUZZ_CHECK(r.succeeded + r.duplicates + r.failures.size() == r.items);
    size_t last = 0;
    for (size_t i = 0; i < r.failures.size(); ++i) {
      const es::ItemFailure& f = r.failures[i];
      SLUICE_FUZZ_CHECK(f.index < r.items && (i == 0 || f.index > last));
      last = f.index;
      std::string out;
      SLUICE_FUZZ_CHECK(sluice::msgpack::append_json(out, f.error_json, 1 << 20));
    }
  }
  size_t end = 0;
  for (auto [b, e] : es::split_items(body)) {
    SLUICE_FUZZ_CHECK(b == end && b < e && e <= body.size());
    end = e;
  }
  return 0;
}
