// libFuzzer target: the HTTP/1.1 response reader of the plain-HTTP transport
// (http::ResponseReader) on bytes from a server, then the end of the connection. The same bytes
// in one piece, in two pieces split where the input decides and byte by byte must give the same
// response; a large and a small body limit. Checks what callers rely on: a complete response has
// a final status, a body within the limit and, unless chunked, the body is the input's bytes
// just before any extra bytes; an error has a message; only a complete response is reusable.
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "http/response_reader.h"
#include "fuzz_support.h"

namespace {

using sluice::http::ResponseReader;
using State = ResponseReader::State;

// A complete response with a Transfer-Encoding field was chunked (any other coding is an error).
bool is_chunked(ResponseReader& r) {
  for (const auto& field : r.headers()) {
    std::string name = field.first;
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (name == "transfer-encoding") return true;
  }
  return false;
}

void check(ResponseReader& r, std::string_view in, size_t max_body) {
  SLUICE_FUZZ_CHECK(r.state() != State::Incomplete);  // after the end of the connection
  SLUICE_FUZZ_CHECK(r.started() == !in.empty());
  SLUICE_FUZZ_CHECK(r.body().size() <= max_body);
  SLUICE_FUZZ_CHECK(r.headers().size() <= ResponseReader::kMaxHeaders);
  SLUICE_FUZZ_CHECK((r.state() == State::Error) == !r.error().empty());
  SLUICE_FUZZ_CHECK(!r.body_too_large() || r.state() == State::Error);
  SLUICE_FUZZ_CHECK(!r.reusable() || (r.state() == State::Complete && r.extra_bytes() == 0));
  if (r.state() != State::Complete) return;
  SLUICE_FUZZ_CHECK(r.status() >= 200 && r.status() <= 999);
  SLUICE_FUZZ_CHECK(r.extra_bytes() + r.body().size() <= in.size());
  if (!is_chunked(r))
    SLUICE_FUZZ_CHECK(in.substr(in.size() - r.extra_bytes() - r.body().size(), r.body().size()) == r.body());
}

void same(ResponseReader& a, ResponseReader& b) {
  SLUICE_FUZZ_CHECK(a.state() == b.state() && a.status() == b.status() && a.error() == b.error());
  SLUICE_FUZZ_CHECK(a.headers() == b.headers());
  SLUICE_FUZZ_CHECK(a.reusable() == b.reusable() && a.started() == b.started());
  SLUICE_FUZZ_CHECK(a.body_too_large() == b.body_too_large());
  // After an error the reader stops where it failed, within the piece: how much of the body it
  // kept (a body to the end of the connection stops growing at the piece that crosses the limit)
  // and how many bytes it left unread depend on the pieces.
  if (a.state() != State::Error) SLUICE_FUZZ_CHECK(a.body() == b.body() && a.extra_bytes() == b.extra_bytes());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  // The first byte picks the split (in 256ths of the input): the fuzzer moves it where it wants.
  const size_t split = size == 0 ? 0 : size * data[0] / 256;
  for (size_t max_body : {size_t{1} << 20, size_t{64}}) {
    ResponseReader whole(max_body), two(max_body), bytewise(max_body);
    whole.feed(in);
    const State before_eof = whole.state();
    whole.finish_at_eof();
    check(whole, in, max_body);
    SLUICE_FUZZ_CHECK(before_eof == State::Incomplete || before_eof == whole.state());

    two.feed(in.substr(0, split));
    two.feed(in.substr(split));
    two.finish_at_eof();
    same(whole, two);

    State last = State::Incomplete;
    for (size_t i = 0; i < size; ++i) {
      const State s = bytewise.feed(in.substr(i, 1));
      SLUICE_FUZZ_CHECK(last == State::Incomplete || s == last);  // an outcome is final
      last = s;
    }
    bytewise.finish_at_eof();
    same(whole, bytewise);
  }
  return 0;
}
