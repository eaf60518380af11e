// The client side of the forward protocol's handshake (`<security>`: shared_key, and username /
// password when the server asks for them), as Fluentd's out_forward does it: the server opens
// with HELO (a nonce, and a salt when it wants users to authenticate), the client answers PING
// with digests of the shared key and the password, and the server's PONG proves it knows the
// shared key too. Only then are chunks sent.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>

namespace sluice::forward_out {

struct Credentials {
  std::string self_hostname;
  std::string shared_key;
  std::string username, password;  // sent only when the server's HELO asks for them
};

class ClientHandshake {
 public:
  explicit ClientHandshake(const Credentials& c) : c_(c) {}

  // Reads the server's HELO frame; fills `ping` with the answer. False with `error` set.
  bool on_helo(std::string_view frame, std::string& ping, std::string& error);
  // Reads the server's PONG frame: true when the server accepted us and knows the shared key.
  bool on_pong(std::string_view frame, std::string& error) const;

 private:
  const Credentials& c_;
  std::string nonce_, salt_;
};

// SHA-512 of the concatenated parts, as lowercase hex (Ruby's Digest::SHA512#hexdigest).
std::string sha512_hex(std::initializer_list<std::string_view> parts);

}  // namespace sluice::forward_out
