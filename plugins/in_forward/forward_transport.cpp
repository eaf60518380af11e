#include "forward_transport.h"

#include <string>

#include "config/params.h"

namespace sluice::forward {

namespace {

// Fluentd <transport tls> parameters sluice does not take, and why.
const char* unsupported(const std::string& key) {
  if (key.rfind("generate_", 0) == 0 || key == "ca_cert_path" || key == "ca_private_key_path" ||
      key == "ca_private_key_passphrase")
    return "sluice does not generate certificates: give cert_path and private_key_path";
  if (key == "cert_verifier") return "a Ruby verifier cannot run in sluice";
  return nullptr;
}

}  // namespace

std::shared_ptr<TlsContext> read_transport(const ConfigSection& source) {
  const ConfigSection* t = source.child("transport");
  if (!t || t->arg.empty() || t->arg == "tcp") return nullptr;
  if (t->arg != "tls") throw ConfigException(t->pos, "forward: unknown transport '" + t->arg + "' (tcp or tls)");
  TlsOptions o;
  for (const ConfigParam& p : t->params) {
    const std::string& k = p.key;
    auto flag = [&](bool& out) {
      if (!parse_bool(p.value, out)) throw ConfigException(p.pos, "forward: " + k + " must be true or false");
    };
    if (k == "version") o.version = p.value;
    else if (k == "min_version") o.min_version = p.value;
    else if (k == "max_version") o.max_version = p.value;
    else if (k == "ciphers") o.ciphers = p.value;
    else if (k == "cert_path") o.cert_path = p.value;
    else if (k == "private_key_path") o.key_path = p.value;
    else if (k == "private_key_passphrase") o.key_passphrase = p.value;
    else if (k == "ca_path") o.ca_paths = {p.value};
    else if (k == "client_cert_auth") flag(o.client_cert_auth);
    else if (k == "insecure" || k == "protocol" || k == "ensure_fips" || k == "cert_thumbprint" ||
             k == "cert_logical_store_name" || k == "cert_use_enterprise_store" || k.rfind("@", 0) == 0) {
      // Accepted: the server always uses the certificate given; the others are Windows stores.
    } else if (const char* why = unsupported(k)) {
      throw ConfigException(p.pos, "forward: <transport tls> " + k + " is not supported: " + why);
    } else {
      throw ConfigException(p.pos, "forward: unknown <transport tls> parameter '" + k +
                                       "' (cert_path, private_key_path, private_key_passphrase, ca_path, "
                                       "client_cert_auth, version, min_version, max_version, ciphers)");
    }
  }
  if (o.cert_path.empty() || o.key_path.empty())
    throw ConfigException(t->pos, "forward: <transport tls> needs cert_path and private_key_path");
  if (o.client_cert_auth && o.ca_paths.empty())
    throw ConfigException(t->pos, "forward: <transport tls> client_cert_auth needs ca_path (the CA of the "
                                  "clients' certificates)");
  std::string error;
  auto ctx = TlsContext::create(TlsRole::Server, o, error);
  if (!ctx) throw ConfigException(t->pos, "forward: <transport tls>: " + error);
  return ctx;
}

}  // namespace sluice::forward
