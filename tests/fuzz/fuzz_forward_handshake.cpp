// libFuzzer target: out_forward's side of the <security> handshake (ClientHandshake), on what a
// server sends. The input is split at its first byte's value: the HELO, then the PONG. Checks
// that a PING is one well-formed msgpack array of six, and that a PONG whose proof was not made
// with the shared key is never accepted.
#include <cstddef>
#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>

#include "../../plugins/out_forward/forward_handshake.h"
#include "fuzz_support.h"

namespace fo = sluice::forward_out;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view in(reinterpret_cast<const char*>(data + 1), size - 1);
  size_t cut = std::min<size_t>(data[0], in.size());
  static const fo::Credentials creds{"client.test", "fuzzed-key", "user", "password"};
  fo::ClientHandshake hs(creds);
  std::string ping, error;
  if (!hs.on_helo(in.substr(0, cut), ping, error)) {
    SLUICE_FUZZ_CHECK(!error.empty());
    return 0;
  }
  SLUICE_FUZZ_CHECK(sluice::fuzz::valid_msgpack(ping));
  SLUICE_FUZZ_CHECK(static_cast<uint8_t>(ping[0]) == 0x96);
  // The salt is fresh and random, so no fixed input can carry a valid proof for it.
  SLUICE_FUZZ_CHECK(!hs.on_pong(in.substr(cut), error));
  SLUICE_FUZZ_CHECK(!error.empty());
  return 0;
}
