// The forward protocol's handshake (`<security>`), both sides, as Fluentd's in_forward and
// out_forward do it. The server opens with HELO (a nonce, and a salt when it authenticates
// users); the client answers PING with its hostname, a salt of its own and SHA-512 digests of
// the shared key and, when asked, of its password; the server's PONG accepts or refuses, and when
// it accepts it proves that it knows the shared key too. Events flow only after that.
#pragma once

#include <functional>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sluice {
struct ConfigParam;
struct ConfigSection;
}  // namespace sluice

namespace sluice::forward {

// The <security> parameters both plugins take: self_hostname and shared_key, both required (as in
// Fluentd). Every other parameter goes to `other`, which says whether it knew it; one it did not
// know is a configuration error listing self_hostname, shared_key and then `others`.
void read_security_key(const ConfigSection& security, std::string& self_hostname,
                       std::string& shared_key, const std::function<bool(const ConfigParam&)>& other,
                       std::string_view others);

// SHA-512 of the concatenated parts, as lowercase hex (Ruby's Digest::SHA512#hexdigest).
std::string sha512_hex(std::initializer_list<std::string_view> parts);

struct Credentials {
  std::string self_hostname;
  std::string shared_key;
  std::string username, password;  // sent only when the server's HELO asks for them
};

// out_forward's side, one per connection.
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

// A <client> section: the peers it covers (one address, or a network), the key they must
// know and the users they may log in as (all when empty).
struct ClientRule {
  int family = 0;                  // AF_INET or AF_INET6
  unsigned char address[16] = {};  // network order; 4 bytes used for AF_INET
  unsigned prefix = 0;             // bits of `address` that must match
  std::string shared_key;
  std::vector<std::string> users;

  bool covers(const std::string& peer_address) const;
};

// The network `text` ("10.0.0.0/8", "fd00::/8", or one address) into `rule`; false when it is
// not one.
bool parse_network(const std::string& text, ClientRule& rule);

struct ServerSecurity {
  std::string self_hostname;
  std::string shared_key;
  bool user_auth = false;
  std::vector<std::pair<std::string, std::string>> users;  // username, password
  bool allow_anonymous_source = true;  // peers no <client> covers may connect
  std::vector<ClientRule> clients;
};

// in_forward's <security> section, checked (hosts of <client> sections resolved now).
ServerSecurity read_server_security(const ConfigSection& security);

// in_forward's side, one per connection.
class ServerHandshake {
 public:
  explicit ServerHandshake(const ServerSecurity& s) : s_(s) {}

  // The HELO that opens the connection (a fresh nonce, and salt with user_auth); empty when
  // OpenSSL had no random bytes to give (the connection must then be closed).
  std::string helo();
  // Checks the PING of the client at `peer_address` and returns the PONG to send. `accepted`
  // false: send it, then close; `reason` says why (never a secret).
  std::string on_ping(std::string_view frame, const std::string& peer_address, bool& accepted,
                      std::string& reason) const;

 private:
  const ServerSecurity& s_;
  std::string nonce_, auth_salt_;
};

}  // namespace sluice::forward
