// `<match> @type forward`: the parameters and <server> sections, checked and turned into the
// Settings that ForwardOutput (forward_output.cpp) sends with.
#include "buffer/buffer.h"
#include "core/log.h"
#include "core/registry.h"
#include "core/tls_session.h"
#include "forward_output.h"

namespace sluice {

namespace {

using forward_out::Server;
using forward_out::Settings;

constexpr auto& P = spec::with_default;
constexpr auto& Opt = spec::optional;
constexpr auto& Ign = spec::ignored;

PluginSpec forward_out_spec() {
  PluginSpec s{"output", "forward",
               "Sends chunks to Fluentd forward servers as Fluentd's out_forward does "
               "(PackedForward, str32 entries, acks, gzip or zstd, TLS, the <security> handshake), with "
               "failover and <buffer> retries.",
               {},
               {"buffer", "server", "secondary", "security"}};
  ParamSpec hb = P("heartbeat_type", ParamType::Enum, "transport",
                   "transport: a TCP connect per heartbeat_interval marks servers up/down; udp is "
                   "treated as transport; none: servers are marked down only by failed sends.");
  hb.choices = {"transport", "tcp", "udp", "none"};
  ParamSpec comp = P("compress", ParamType::Enum, "text", "text, gzip or zstd (CompressedPackedForward: the entries compressed, option `compressed`).");
  comp.choices = {"text", "gzip", "zstd"};
  ParamSpec transport = P("transport", ParamType::Enum, "tcp", "tcp, or tls (the tls_* parameters).");
  transport.choices = {"tcp", "tls"};
  s.params = {
      P("require_ack_response", ParamType::Bool, "false",
        "Wait for {\"ack\": chunk} before the chunk counts as delivered."),
      P("ack_response_timeout", ParamType::Duration, "190", "How long to wait for the ack."),
      P("send_timeout", ParamType::Duration, "60", "How long a write may take."),
      Opt("connect_timeout", ParamType::Duration, "Connect timeout (default: send_timeout)."),
      hb,
      P("heartbeat_interval", ParamType::Duration, "1", "Seconds between heartbeats."),
      P("recover_wait", ParamType::Duration, "10",
        "With heartbeat_type none: how long a failed server is tried last."),
      P("keepalive", ParamType::Bool, "false",
        "Keep connections open for the next chunks (false: one connection per chunk, as Fluentd)."),
      Opt("keepalive_timeout", ParamType::Duration, "Close a kept connection idle this long (unset: never)."),
      comp,
      P("time_as_integer", ParamType::Bool, "false", "Send integer seconds instead of EventTime."),
      transport,
      Ign("hard_timeout", ParamType::Duration, "Accepted; send_timeout bounds a write."),
      Ign("expire_dns_cache", ParamType::Duration, "Accepted; names are resolved per connection."),
      Ign("dns_round_robin", ParamType::Bool, "Accepted; the first address is used."),
      Ign("phi_failure_detector", ParamType::Bool, "Accepted; a failed heartbeat marks a server down."),
      Ign("phi_threshold", ParamType::Integer, "Accepted; ignored."),
      Ign("ignore_network_errors_at_startup", ParamType::Bool, "Accepted; sluice never fails at startup."),
      Ign("verify_connection_at_startup", ParamType::Bool, "Accepted; ignored."),
      Ign("send_keepalive_packet", ParamType::Bool, "Accepted; ignored."),
      Ign("connect_timeout_on_heartbeat", ParamType::Duration, "Accepted; ignored."),
      P("tls_version", ParamType::String, "TLSv1_2", "The TLS version spoken (TLSv1_1, TLSv1_2, TLSv1_3)."),
      Opt("tls_min_version", ParamType::String, "With tls_max_version: a range of versions instead."),
      Opt("tls_max_version", ParamType::String, "With tls_min_version: a range of versions instead."),
      P("tls_ciphers", ParamType::String, "ALL:!aNULL:!eNULL:!SSLv2", "OpenSSL cipher list (TLS 1.2 and below)."),
      P("tls_insecure_mode", ParamType::Bool, "false", "Do not verify the server's certificate at all."),
      P("tls_allow_self_signed_cert", ParamType::Bool, "false",
        "Check the signature of a self-signed certificate found in the trusted store."),
      P("tls_verify_hostname", ParamType::Bool, "true",
        "The certificate must name the server's host (hosts given as addresses are not checked, as in Fluentd)."),
      Opt("tls_cert_path", ParamType::Array, "CA certificate files trusted besides the system's store."),
      Opt("tls_client_cert_path", ParamType::String, "Client certificate (PEM) for servers that ask for one."),
      Opt("tls_client_private_key_path", ParamType::String, "Its private key (PEM)."),
      spec::secret("tls_client_private_key_passphrase", ParamType::String, "The key's passphrase."),
      Ign("tls_cert_thumbprint", ParamType::String, "Accepted; Windows certificate stores only."),
      Ign("tls_cert_logical_store_name", ParamType::String, "Accepted; Windows certificate stores only."),
      Ign("tls_cert_use_enterprise_store", ParamType::Bool, "Accepted; Windows certificate stores only."),
  };
  return s;
}

// <security>: self_hostname and shared_key, as in Fluentd's out_forward.
forward::Credentials read_security(const ConfigSection& sec) {
  forward::Credentials c;
  forward::read_security_key(sec, c.self_hostname, c.shared_key, [](const ConfigParam&) { return false; }, "");
  return c;
}

// transport tls: the tls_* parameters, checked now (files read, versions known).
std::shared_ptr<TlsContext> tls_context(const Params& p) {
  TlsOptions o;
  o.version = p.str("tls_version");
  if (p.has("tls_min_version")) o.min_version = p.str("tls_min_version");
  if (p.has("tls_max_version")) o.max_version = p.str("tls_max_version");
  o.ciphers = p.str("tls_ciphers");
  o.insecure = p.flag("tls_insecure_mode");
  o.allow_self_signed = p.flag("tls_allow_self_signed_cert");
  o.verify_hostname = p.flag("tls_verify_hostname");
  if (p.has("tls_cert_path")) o.ca_paths = p.list("tls_cert_path");
  if (p.has("tls_client_cert_path")) o.cert_path = p.str("tls_client_cert_path");
  if (p.has("tls_client_private_key_path")) o.key_path = p.str("tls_client_private_key_path");
  if (p.has("tls_client_private_key_passphrase")) o.key_passphrase = p.str("tls_client_private_key_passphrase");
  if (o.cert_path.empty() != o.key_path.empty())
    throw ConfigException(p.pos("transport"), "forward: transport tls: tls_client_cert_path and "
                                              "tls_client_private_key_path go together");
  std::string error;
  auto ctx = TlsContext::create(TlsRole::Client, o, error);
  if (!ctx) throw ConfigException(p.pos("transport"), "forward: transport tls: " + error);
  return ctx;
}

std::unique_ptr<Output> make_forward_out(PluginContext& ctx, const Params& p) {
  const ConfigSection& sec = p.section();
  Settings s;
  if (p.str("transport") == "tls") s.tls = tls_context(p);
  forward::Credentials security;
  if (const ConfigSection* ss = sec.child("security")) {
    s.secure = true;
    security = read_security(*ss);
  }
  for (auto& child : sec.children) {
    if (child.name != "server") continue;
    Server sv;
    sv.credentials = security;
    for (auto& prm : child.params) {
      const std::string& k = prm.key;
      if (k == "host") sv.host = prm.value;
      else if (k == "name") sv.name = prm.value;
      else if (k == "port") {
        int64_t v;
        if (!parse_integer(prm.value, v) || v <= 0 || v > 65535)
          throw ConfigException(prm.pos, "forward: <server> port must be 1..65535");
        sv.port = int(v);
      } else if (k == "weight") {
        int64_t v;
        if (!parse_integer(prm.value, v) || v < 0) throw ConfigException(prm.pos, "forward: <server> weight must be an integer >= 0");
        sv.weight = int(v);
      } else if (k == "standby") {
        if (!parse_bool(prm.value, sv.standby)) throw ConfigException(prm.pos, "forward: <server> standby must be true or false");
      } else if (k == "shared_key" || k == "username" || k == "password") {
        if (!s.secure)
          throw ConfigException(prm.pos, "forward: <server> " + k + " needs a <security> section "
                                         "(self_hostname, shared_key)");
        (k == "shared_key" ? sv.credentials.shared_key
                           : k == "username" ? sv.credentials.username : sv.credentials.password) = prm.value;
      } else if (k.rfind("@", 0) == 0) {
      } else {
        throw ConfigException(prm.pos, "forward: unknown <server> parameter '" + k +
                                           "' (host, port, weight, standby, name)");
      }
    }
    if (sv.host.empty()) throw ConfigException(child.pos, "forward: <server> needs a host");
    s.servers.push_back(std::move(sv));
  }
  if (s.servers.empty()) throw ConfigException(sec.pos, "forward: at least one <server> is required");
  s.require_ack = p.flag("require_ack_response");
  s.ack_timeout = p.seconds("ack_response_timeout");
  s.send_timeout = p.seconds("send_timeout");
  if (p.has("connect_timeout")) s.connect_timeout = p.seconds("connect_timeout");
  std::string hb = p.str("heartbeat_type");
  s.heartbeat = hb != "none";
  if (hb == "udp")
    log::info("output " + ctx.id + ": heartbeat_type udp is handled as transport (TCP connect)");
  s.heartbeat_interval = p.seconds("heartbeat_interval");
  s.recover_wait = p.seconds("recover_wait");
  s.compress = p.str("compress");
  s.keepalive = p.flag("keepalive");
  if (p.has("keepalive_timeout")) s.keepalive_timeout = p.seconds("keepalive_timeout");
  s.time_as_integer = p.flag("time_as_integer");
  if (s.ack_timeout <= 0 || s.send_timeout <= 0)
    throw ConfigException(sec.pos, "forward: timeouts must be positive");

  const ConfigSection* bsec = sec.child("buffer");
  buffer::Config::Defaults bd;
  bd.chunk_keys = {"tag"};
  buffer::Config bc = buffer::Config::parse_for_output(ctx, sec, bd);
  if (!bc.key_tag)
    throw ConfigException(bsec ? bsec->pos : sec.pos,
                          "forward: the <buffer> chunk keys must include tag (each chunk is sent "
                          "with one tag)");
  return forward_out::make_forward_output(ctx, std::move(s), std::move(bc));
}

}  // namespace

void register_out_forward(Registry& registry) { registry.add_output(forward_out_spec(), make_forward_out); }

}  // namespace sluice
