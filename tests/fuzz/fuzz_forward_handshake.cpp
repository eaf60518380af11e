// libFuzzer target: both sides of the forward protocol's <security> handshake on what the other
// side sends. ClientHandshake (out_forward) reads the input as a server's HELO and PONG, split at
// the first byte's value; ServerHandshake (in_forward) reads all of it as a client's PING. Checks
// that every message sluice writes is one well-formed msgpack array (PING of six, PONG of five),
// and that no proof not made with the key and this connection's random salt or nonce is accepted.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "../../plugins/in_forward/forward_handshake.h"
#include "fuzz_support.h"

namespace fw = sluice::forward;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view in(reinterpret_cast<const char*>(data + 1), size - 1);

  static const fw::ServerSecurity server{"server.test", "fuzzed-key", true, {{"user", "password"}}};
  fw::ServerHandshake sh(server);
  std::string helo = sh.helo();
  SLUICE_FUZZ_CHECK(sluice::fuzz::valid_msgpack(helo));
  bool accepted = true;
  std::string reason;
  std::string pong = sh.on_ping(in, "127.0.0.1", accepted, reason);
  SLUICE_FUZZ_CHECK(!accepted && !reason.empty());
  SLUICE_FUZZ_CHECK(sluice::fuzz::valid_msgpack(pong) && static_cast<uint8_t>(pong[0]) == 0x95);

  size_t cut = std::min<size_t>(data[0], in.size());
  static const fw::Credentials creds{"client.test", "fuzzed-key", "user", "password"};
  fw::ClientHandshake hs(creds);
  std::string ping, error;
  if (!hs.on_helo(in.substr(0, cut), ping, error)) {
    SLUICE_FUZZ_CHECK(!error.empty());
    return 0;
  }
  SLUICE_FUZZ_CHECK(sluice::fuzz::valid_msgpack(ping) && static_cast<uint8_t>(ping[0]) == 0x96);
  SLUICE_FUZZ_CHECK(!hs.on_pong(in.substr(cut), error));
  SLUICE_FUZZ_CHECK(!error.empty());
  return 0;
}
