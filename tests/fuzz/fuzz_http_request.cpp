// libFuzzer target: in_http's request reader (plugins/in_http/request_reader.h) on bytes from a
// client, then every complete request through the handler (request_handler.h) with all request
// fields on. The same bytes fed whole and byte by byte must give the same requests and the same
// outcome; a complete request lies within the input, its body within the limit; an error has a
// status and a reason. Then the handler must answer every request with a valid status and build
// records whose fields all belong to records.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "../../plugins/in_http/request_handler.h"
#include "../../plugins/in_http/request_reader.h"
#include "fuzz_support.h"

namespace {

using sluice::in_http::RequestReader;
using State = RequestReader::State;

struct Seen {
  std::vector<std::string> requests;  // method, target, body of each complete request
  State last = State::NeedMore;
  int status = 0;
};

sluice::EventTime pinned_now() { return {1700000000, 0}; }

sluice::in_http::RequestHandler& handler() {
  static sluice::in_http::RequestHandler h = [] {
    sluice::in_http::HandlerSettings s;
    s.add_http_headers = s.add_remote_addr = s.add_query_params = true;
    s.cors = true;
    s.cors_allow_origins = {"http://*.example.com", ""};
    s.decompression_size_limit = 1 << 20;
    return sluice::in_http::RequestHandler(s, nullptr);
  }();
  return h;
}

// Reads requests out of `in` the way a connection does; `step` bytes arrive at a time.
Seen read_all(std::string_view in, size_t step, const sluice::in_http::ReaderLimits& limits, bool handle) {
  Seen seen;
  RequestReader reader(limits);
  std::string buf;
  size_t fed = 0;
  while (true) {
    if (fed < in.size()) {
      size_t n = std::min(step, in.size() - fed);
      buf.append(in.substr(fed, n));
      fed += n;
    }
    State s = reader.feed(buf);
    reader.take_continue();
    if (s == State::Error) {
      SLUICE_FUZZ_CHECK(reader.status() >= 400 && reader.status() < 600 && !reader.reason().empty());
      seen.last = s;
      seen.status = reader.status();
      return seen;
    }
    if (s == State::Complete) {
      SLUICE_FUZZ_CHECK(reader.consumed() <= buf.size());
      SLUICE_FUZZ_CHECK(reader.body().size() <= limits.max_body);
      seen.requests.push_back(reader.head().method + " " + reader.head().target + " " +
                              std::string(reader.body()));
      if (handle) {
        sluice::Batch batch;
        sluice::in_http::BodyInfo info;
        handler().now = pinned_now;
        auto r =
            handler().handle(reader.head(), reader.body(), "127.0.0.1", reader.keep_alive(), batch, info);
        SLUICE_FUZZ_CHECK(r.status == 200 || r.status == 204 || r.status == 400 || r.status == 403);
        size_t fields = 0;
        for (const auto& rec : batch.records) {
          SLUICE_FUZZ_CHECK(rec.first_field == fields);
          fields += rec.field_count;
        }
        SLUICE_FUZZ_CHECK(fields == batch.fields.size());
        SLUICE_FUZZ_CHECK(r.status == 200 || r.status == 204 || batch.records.empty());
        sluice::in_http::serialize(r);
      }
      buf.erase(0, reader.consumed());
      reader.reset();
      if (buf.empty() && fed == in.size()) return seen;
      continue;
    }
    if (fed == in.size()) return seen;  // the rest never completes
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  for (auto limits : {sluice::in_http::ReaderLimits{}, sluice::in_http::ReaderLimits{64, 16}}) {
    Seen whole = read_all(in, in.size() + 1, limits, true);
    Seen bytewise = read_all(in, 1, limits, false);
    SLUICE_FUZZ_CHECK(whole.requests == bytewise.requests);
    SLUICE_FUZZ_CHECK(whole.last == bytewise.last && whole.status == bytewise.status);
  }
  return 0;
}
