#include "forward_handshake.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <cstring>
#include <initializer_list>
#include <vector>

#include "format/msgpack_reader.h"
#include "config/config.h"
#include "config/params.h"
#include "core/log.h"
#include "format/msgpack.h"

namespace sluice::forward {

void read_security_key(const ConfigSection& security, std::string& self_hostname,
                       std::string& shared_key, const std::function<bool(const ConfigParam&)>& other,
                       std::string_view others) {
  bool has_key = false;
  for (auto& prm : security.params) {
    if (prm.key == "self_hostname") {
      self_hostname = prm.value;
    } else if (prm.key == "shared_key") {
      shared_key = prm.value;
      has_key = true;
    } else if (!other(prm) && prm.key.rfind("@", 0) != 0) {
      throw ConfigException(prm.pos, "forward: unknown <security> parameter '" + prm.key +
                                         "' (self_hostname, shared_key" + std::string(others) + ")");
    }
  }
  if (self_hostname.empty()) throw ConfigException(security.pos, "forward: <security> needs self_hostname");
  if (!has_key) throw ConfigException(security.pos, "forward: <security> needs shared_key");
}

std::string sha512_hex(std::initializer_list<std::string_view> parts) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(ctx, EVP_sha512(), nullptr);
  for (std::string_view p : parts) EVP_DigestUpdate(ctx, p.data(), p.size());
  EVP_DigestFinal_ex(ctx, md, &len);
  EVP_MD_CTX_free(ctx);
  static const char hex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out.push_back(hex[md[i] >> 4]);
    out.push_back(hex[md[i] & 15]);
  }
  return out;
}

namespace {

using mp::Head;
using mp::Reader;

// The items of a top-level msgpack array: strings (str or bin), booleans, maps kept whole.
struct Item {
  Head::Kind kind = Head::Never;
  std::string_view text;  // str or bin payload; a map's whole encoding
  bool flag = false;
};

bool read_array(std::string_view frame, std::vector<Item>& items) {
  Reader r(frame, 8);
  Head h;
  if (!r.head(h) || h.kind != Head::Array || h.count > 8) return false;
  r.pos += h.hdr;
  for (uint64_t i = 0; i < h.count; ++i) {
    Head e;
    if (!r.head(e)) return false;
    Item it;
    it.kind = e.kind;
    size_t start = r.pos;
    if (e.kind == Head::Str || e.kind == Head::Bin) it.text = r.payload(e);
    if (e.kind == Head::Bool) it.flag = e.small != 0;
    if (!r.skip()) return false;
    if (e.kind == Head::Map) it.text = frame.substr(start, r.pos - start);
    items.push_back(it);
  }
  return r.pos == frame.size();
}

bool is_text(const Item& i) { return i.kind == Head::Str || i.kind == Head::Bin; }

// The nonce and the user-authentication salt of a HELO's option map (str or bin).
void read_options(std::string_view map, std::string& nonce, std::string& auth) {
  Reader r(map, 8);
  Head h;
  if (!r.head(h) || h.kind != Head::Map) return;
  r.pos += h.hdr;
  for (uint64_t i = 0; i < h.count / 2; ++i) {
    Head k;
    if (!r.head(k)) return;
    std::string_view key = k.kind == Head::Str ? r.payload(k) : std::string_view();
    if (!r.skip()) return;
    Head v;
    if (!r.head(v)) return;
    if ((v.kind == Head::Str || v.kind == Head::Bin) && (key == "nonce" || key == "auth"))
      (key == "nonce" ? nonce : auth).assign(r.payload(v));
    if (!r.skip()) return;
  }
}

std::string random_bytes(size_t n) {
  std::string out(n, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), int(n)) != 1) out.clear();
  return out;
}

}  // namespace

bool ClientHandshake::on_helo(std::string_view frame, std::string& ping, std::string& error) {
  std::vector<Item> m;
  if (!read_array(frame, m) || m.size() != 2 || !is_text(m[0]) || m[0].text != "HELO" ||
      m[1].kind != Head::Map) {
    error = "the server did not start with HELO (is it a forward input with <security>?)";
    return false;
  }
  std::string auth;
  read_options(m[1].text, nonce_, auth);
  salt_ = random_bytes(16);
  if (salt_.empty()) {
    error = "no random bytes for the handshake's salt";
    return false;
  }
  ping.clear();
  msgpack::append_array_header(ping, 6);
  msgpack::append_str(ping, "PING");
  msgpack::append_str(ping, c_.self_hostname);
  msgpack::append_bin(ping, salt_);
  msgpack::append_str(ping, sha512_hex({salt_, c_.self_hostname, nonce_, c_.shared_key}));
  if (auth.empty()) {
    msgpack::append_str(ping, "");
    msgpack::append_str(ping, "");
  } else {
    msgpack::append_str(ping, c_.username);
    msgpack::append_str(ping, sha512_hex({auth, c_.username, c_.password}));
  }
  return true;
}

bool ClientHandshake::on_pong(std::string_view frame, std::string& error) const {
  std::vector<Item> m;
  if (!read_array(frame, m) || m.size() != 5 || !is_text(m[0]) || m[0].text != "PONG" ||
      m[1].kind != Head::Bool || !is_text(m[2]) || !is_text(m[3]) || !is_text(m[4])) {
    error = "invalid PONG message";
    return false;
  }
  if (!m[1].flag) {
    error = "authentication failed: " + log::quote_excerpt(m[2].text, 200);  // the server's words
    return false;
  }
  if (m[3].text == c_.self_hostname) {
    error = "the server has this output's self_hostname too: invalid configuration";
    return false;
  }
  if (m[4].text != sha512_hex({salt_, m[3].text, nonce_, c_.shared_key})) {
    error = "shared key mismatch: the server's PONG does not prove it knows the shared key";
    return false;
  }
  return true;
}

std::string ServerHandshake::helo() {
  nonce_ = random_bytes(16);
  auth_salt_ = s_.user_auth ? random_bytes(16) : std::string();
  // Without fresh randomness a PING could be replayed: no HELO at all.
  if (nonce_.empty() || (s_.user_auth && auth_salt_.empty())) return {};
  std::string out;
  msgpack::append_array_header(out, 2);
  msgpack::append_str(out, "HELO");
  msgpack::append_map_header(out, 3);
  msgpack::append_str(out, "nonce");
  msgpack::append_bin(out, nonce_);
  msgpack::append_str(out, "auth");
  msgpack::append_bin(out, auth_salt_);
  msgpack::append_str(out, "keepalive");
  msgpack::append_bool(out, true);
  return out;
}

static std::string pong(bool accepted, std::string_view reason, std::string_view hostname,
                        std::string_view digest) {
  std::string out;
  msgpack::append_array_header(out, 5);
  msgpack::append_str(out, "PONG");
  msgpack::append_bool(out, accepted);
  msgpack::append_str(out, reason);
  msgpack::append_str(out, hostname);
  msgpack::append_str(out, digest);
  return out;
}

std::string ServerHandshake::on_ping(std::string_view frame, const std::string& peer_address, bool& accepted,
                                     std::string& reason) const {
  accepted = false;
  std::vector<Item> m;
  const ClientRule* client = nullptr;
  for (const ClientRule& rule : s_.clients)
    if (rule.covers(peer_address)) {
      client = &rule;
      break;
    }
  // Fluentd's rule: the first <client> covering the peer gives the key and the users it may be.
  const std::string& key = client ? client->shared_key : s_.shared_key;
  if (!read_array(frame, m) || m.size() != 6 || !is_text(m[0]) || m[0].text != "PING" ||
      !is_text(m[1]) || !is_text(m[2]) || !is_text(m[3]) || !is_text(m[4]) || !is_text(m[5])) {
    reason = "invalid ping message";
  } else if (!client && !s_.allow_anonymous_source) {
    reason = "anonymous source host '" + peer_address + "' denied";
  } else if (m[1].text == s_.self_hostname) {
    reason = "same hostname between input and output: invalid configuration";
  } else if (m[3].text != sha512_hex({m[2].text, m[1].text, nonce_, key})) {
    reason = "shared_key mismatch";
  } else if (s_.user_auth) {
    for (const auto& [user, password] : s_.users) {
      const bool allowed = !client || client->users.empty() ||
                           std::find(client->users.begin(), client->users.end(), user) != client->users.end();
      if (allowed && m[4].text == user && m[5].text == sha512_hex({auth_salt_, user, password})) accepted = true;
    }
    if (!accepted) reason = "username/password mismatch";
  } else {
    accepted = true;
  }
  if (!accepted) return pong(false, reason, "", "");
  return pong(true, "", s_.self_hostname, sha512_hex({m[2].text, s_.self_hostname, nonce_, key}));
}

bool parse_network(const std::string& text, ClientRule& rule) {
  const size_t slash = text.find('/');
  const std::string address = text.substr(0, slash);
  if (inet_pton(AF_INET, address.c_str(), rule.address) == 1) {
    rule.family = AF_INET;
  } else if (inet_pton(AF_INET6, address.c_str(), rule.address) == 1) {
    rule.family = AF_INET6;
  } else {
    return false;
  }
  const unsigned bits = rule.family == AF_INET ? 32 : 128;
  rule.prefix = bits;
  if (slash == std::string::npos) return true;
  const std::string len = text.substr(slash + 1);
  if (len.empty() || len.size() > 3 || len.find_first_not_of("0123456789") != std::string::npos) return false;
  rule.prefix = static_cast<unsigned>(std::stoul(len));
  return rule.prefix <= bits;
}

bool ClientRule::covers(const std::string& peer_address) const {
  unsigned char peer[16];
  if (inet_pton(family, peer_address.c_str(), peer) != 1) return false;
  const unsigned whole = prefix / 8, rest = prefix % 8;
  if (std::memcmp(peer, address, whole) != 0) return false;
  if (rest == 0) return true;
  const unsigned char mask = static_cast<unsigned char>(0xff << (8 - rest));
  return (peer[whole] & mask) == (address[whole] & mask);
}

// A <client> section of <security>: `host` (resolved now) or `network`, and optionally its own
// shared_key and the users it may log in as.
static ClientRule read_client(const ConfigSection& sec, const std::string& default_key) {
  ClientRule rule;
  rule.shared_key = default_key;
  const ConfigParam* host = sec.param("host");
  const ConfigParam* network = sec.param("network");
  if (host && network) throw ConfigException(sec.pos, "forward: both of 'host' and 'network' are specified for client");
  if (!host && !network)
    throw ConfigException(sec.pos, "forward: either of 'host' and 'network' must be specified for client");
  for (const ConfigParam& prm : sec.params) {
    if (prm.key == "shared_key") {
      rule.shared_key = prm.value;
    } else if (prm.key == "users") {
      if (!parse_array(prm.value, rule.users))
        throw ConfigException(prm.pos, "forward: users must be a list of user names");
    } else if (prm.key != "host" && prm.key != "network") {
      throw ConfigException(prm.pos, "forward: unknown <client> parameter '" + prm.key +
                                         "' (host, network, shared_key, users)");
    }
  }
  if (network && !parse_network(network->value, rule))
    throw ConfigException(network->pos, "forward: network '" + network->value + "' address format is invalid");
  if (host && !parse_network(host->value, rule)) {
    // A name: its first address, as Fluentd resolves it once at start-up.
    addrinfo hints{}, *res = nullptr;
    hints.ai_socktype = SOCK_STREAM;
    char ip[INET6_ADDRSTRLEN] = "";
    if (getaddrinfo(host->value.c_str(), nullptr, &hints, &res) == 0 && res) {
      const void* a = res->ai_family == AF_INET ? static_cast<const void*>(&reinterpret_cast<sockaddr_in*>(res->ai_addr)->sin_addr)
                                                : static_cast<const void*>(&reinterpret_cast<sockaddr_in6*>(res->ai_addr)->sin6_addr);
      inet_ntop(res->ai_family, a, ip, sizeof ip);
      freeaddrinfo(res);
    }
    if (!*ip || !parse_network(ip, rule))
      throw ConfigException(host->pos, "forward: host '" + host->value + "' cannot be resolved");
  }
  return rule;
}

// <security>: self_hostname and shared_key (both required), user_auth with <user> sections,
// allow_anonymous_source and <client> sections, as in Fluentd's in_forward.
ServerSecurity read_server_security(const ConfigSection& sec) {
  ServerSecurity out;
  auto other = [&](const ConfigParam& prm) {
    bool* flag = prm.key == "user_auth" ? &out.user_auth
                 : prm.key == "allow_anonymous_source" ? &out.allow_anonymous_source : nullptr;
    if (flag && !parse_bool(prm.value, *flag))
      throw ConfigException(prm.pos, "forward: " + prm.key + " must be true or false");
    return flag != nullptr;
  };
  read_security_key(sec, out.self_hostname, out.shared_key, other,
                             ", user_auth, allow_anonymous_source");
  for (auto& child : sec.children) {
    if (child.name == "client") {
      out.clients.push_back(read_client(child, out.shared_key));
      continue;
    }
    if (child.name != "user")
      throw ConfigException(child.pos, "forward: unknown section <" + child.name + "> in <security>");
    const ConfigParam* user = child.param("username");
    const ConfigParam* password = child.param("password");
    if (!user || !password)
      throw ConfigException(child.pos, "forward: <user> needs username and password");
    out.users.emplace_back(user->value, password->value);
  }
  if (out.user_auth && out.users.empty())
    throw ConfigException(sec.pos, "forward: user_auth true needs at least one <user>");
  if (!out.allow_anonymous_source && out.clients.empty())
    throw ConfigException(sec.pos, "forward: allow_anonymous_source false needs at least one <client>");
  return out;
}

}  // namespace sluice::forward
