#include "tls_session.h"

#include <arpa/inet.h>
#include <unistd.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace sluice {

namespace {

// OpenSSL's queued errors as one line (and the queue emptied): library messages name files and
// reasons, never key material.
std::string openssl_errors() {
  std::string out;
  while (unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out.empty() ? "unknown OpenSSL error" : out;
}

// Fluentd's spellings (TLSv1_2) and OpenSSL's (TLSv1.2); 0 when unknown.
int protocol_version(std::string_view name) {
  if (name == "TLSv1" || name == "TLSv1_0" || name == "TLS1" || name == "TLS1_0" || name == "TLSv1.0") return TLS1_VERSION;
  if (name == "TLSv1_1" || name == "TLS1_1" || name == "TLSv1.1") return TLS1_1_VERSION;
  if (name == "TLSv1_2" || name == "TLS1_2" || name == "TLSv1.2") return TLS1_2_VERSION;
  if (name == "TLSv1_3" || name == "TLS1_3" || name == "TLSv1.3") return TLS1_3_VERSION;
  return 0;
}

bool is_ip_literal(const std::string& host) {
  unsigned char addr[16];
  return inet_pton(AF_INET, host.c_str(), addr) == 1 || inet_pton(AF_INET6, host.c_str(), addr) == 1;
}

// A file OpenSSL is about to read: "" when it can be read, why not otherwise (OpenSSL's own
// message for a missing file is three library errors long).
std::string unreadable(const std::string& path) {
  return access(path.c_str(), R_OK) == 0 ? std::string() : std::strerror(errno);
}

int give_passphrase(char* buf, int size, int, void* userdata) {
  const auto* pass = static_cast<const std::string*>(userdata);
  if (!pass) return 0;
  const int n = static_cast<int>(std::min<size_t>(pass->size(), static_cast<size_t>(size)));
  std::memcpy(buf, pass->data(), static_cast<size_t>(n));
  return n;
}

}  // namespace

// The CA files: for a client, trusted besides the system's store; for a server, the ones a
// client certificate must chain to.
static bool load_cas(SSL_CTX* ctx, const std::vector<std::string>& paths, std::string& error) {
  for (const std::string& path : paths) {
    std::string why = unreadable(path);
    if (why.empty() && SSL_CTX_load_verify_locations(ctx, path.c_str(), nullptr) != 1) why = openssl_errors();
    if (!why.empty()) {
      error = "cannot read the CA certificates in " + path + ": " + why;
      return false;
    }
  }
  return true;
}

std::shared_ptr<TlsContext> TlsContext::create(TlsRole role, const TlsOptions& o, std::string& error) {
  ERR_clear_error();
  const bool client = role == TlsRole::Client;
  SSL_CTX* ctx = SSL_CTX_new(client ? TLS_client_method() : TLS_server_method());
  if (!ctx) {
    error = "cannot create a TLS context: " + openssl_errors();
    return nullptr;
  }
  std::shared_ptr<TlsContext> self(new TlsContext(ctx, client && o.verify_hostname && !o.insecure));
  const std::string& lowest = o.min_version.empty() ? o.version : o.min_version;
  const std::string& highest = o.max_version.empty() ? (o.min_version.empty() ? o.version : "TLSv1_3") : o.max_version;
  const int min = protocol_version(lowest), max = protocol_version(highest);
  if (min == 0 || max == 0) {
    error = "unknown TLS version '" + (min == 0 ? lowest : highest) + "' (TLSv1_1, TLSv1_2 or TLSv1_3)";
    return nullptr;
  }
  if (!SSL_CTX_set_min_proto_version(ctx, min) || !SSL_CTX_set_max_proto_version(ctx, max)) {
    error = "TLS version " + lowest + " to " + highest + " is not available: " + openssl_errors();
    return nullptr;
  }
  if (!o.ciphers.empty() && SSL_CTX_set_cipher_list(ctx, o.ciphers.c_str()) != 1) {
    error = "the cipher list '" + o.ciphers + "' selects no cipher";
    return nullptr;
  }
  if (client && !o.insecure) {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
    // The system's store as Fluentd loads it; a missing one only leaves the paths given.
    SSL_CTX_set_default_verify_paths(ctx);
    ERR_clear_error();
    if (o.allow_self_signed)
      X509_STORE_set_flags(SSL_CTX_get_cert_store(ctx), X509_V_FLAG_CHECK_SS_SIGNATURE);
  } else if (!client && o.client_cert_auth) {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  } else {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
  }
  if (!load_cas(ctx, o.ca_paths, error)) return nullptr;
  if ((!client || !o.cert_path.empty()) && !self->load_identity(o, error)) return nullptr;
  return self;
}

// The certificate and its key (a server's, or a client's for servers that ask for one). The
// passphrase is handed to OpenSSL for this load only and kept nowhere.
bool TlsContext::load_identity(const TlsOptions& o, std::string& error) {
  std::string passphrase = o.key_passphrase;
  SSL_CTX_set_default_passwd_cb(ctx_, give_passphrase);
  SSL_CTX_set_default_passwd_cb_userdata(ctx_, &passphrase);
  const bool ok = load_identity_files(o, error);
  SSL_CTX_set_default_passwd_cb_userdata(ctx_, nullptr);
  OPENSSL_cleanse(passphrase.data(), passphrase.size());
  return ok;
}

bool TlsContext::load_identity_files(const TlsOptions& o, std::string& error) {
  std::string why = unreadable(o.cert_path);
  if (why.empty() && SSL_CTX_use_certificate_chain_file(ctx_, o.cert_path.c_str()) != 1) why = openssl_errors();
  if (!why.empty()) {
    error = "cannot read the certificate " + o.cert_path + ": " + why;
    return false;
  }
  why = unreadable(o.key_path);
  if (why.empty() && SSL_CTX_use_PrivateKey_file(ctx_, o.key_path.c_str(), SSL_FILETYPE_PEM) != 1) {
    if (ERR_GET_REASON(ERR_peek_last_error()) == X509_R_KEY_VALUES_MISMATCH) {
      ERR_clear_error();
      error = "the private key " + o.key_path + " does not belong to " + o.cert_path;
      return false;
    }
    why = "a wrong passphrase, or not a PEM key: " + openssl_errors();
  }
  if (!why.empty()) {
    error = "cannot read the private key " + o.key_path + ": " + why;
    return false;
  }
  return true;
}

TlsContext::~TlsContext() { SSL_CTX_free(ctx_); }

void TlsSession::attach(SSL_CTX* ctx) {
  ssl_ = SSL_new(ctx);
  from_peer_ = BIO_new(BIO_s_mem());
  to_peer_ = BIO_new(BIO_s_mem());
  SSL_set_bio(ssl_, from_peer_, to_peer_);
}

TlsSession::TlsSession(const TlsContext& context, const std::string& host) {
  attach(context.get());
  SSL_set_connect_state(ssl_);
  // As Fluentd: the name is sent (SNI) and checked, unless the host is an address.
  if (!is_ip_literal(host)) {
    SSL_set_tlsext_host_name(ssl_, host.c_str());
    if (context.verify_hostname()) SSL_set1_host(ssl_, host.c_str());
  }
}

TlsSession::TlsSession(const TlsContext& context) {
  attach(context.get());
  SSL_set_accept_state(ssl_);
}

TlsSession::~TlsSession() { SSL_free(ssl_); }

void TlsSession::received(const char* data, size_t size) {
  BIO_write(from_peer_, data, static_cast<int>(size));
}

void TlsSession::drain(std::string& out) {
  char buf[16384];
  int n;
  while ((n = BIO_read(to_peer_, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
}

std::string TlsSession::failure(int ret, const char* what) {
  const int code = SSL_get_error(ssl_, ret);
  // (Without verification, OpenSSL still records what it would have found.)
  const long verify = SSL_get_verify_result(ssl_);
  if ((SSL_get_verify_mode(ssl_) & SSL_VERIFY_PEER) != 0 && verify != X509_V_OK) {
    ERR_clear_error();
    return std::string("certificate verify failed: ") + X509_verify_cert_error_string(verify);
  }
  if (code == SSL_ERROR_ZERO_RETURN) return std::string("the peer closed the TLS session ") + what;
  if (code == SSL_ERROR_SYSCALL && ERR_peek_error() == 0)
    return std::string("the TLS session ended unexpectedly ") + what;
  return std::string("TLS error ") + what + ": " + openssl_errors();
}

TlsSession::Status TlsSession::handshake(std::string& out, std::string& error) {
  ERR_clear_error();
  const int ret = SSL_do_handshake(ssl_);
  drain(out);  // also the alert that tells the server why, on failure
  if (ret == 1) return Status::Done;
  const int code = SSL_get_error(ssl_, ret);
  if (code == SSL_ERROR_WANT_READ || code == SSL_ERROR_WANT_WRITE) return Status::NeedMore;
  error = failure(ret, "in the handshake");
  return Status::Failed;
}

bool TlsSession::encrypt(std::string_view plain, std::string& out, std::string& error) {
  ERR_clear_error();
  while (!plain.empty()) {
    // Memory BIOs grow: a write takes whole records until the input ends.
    const int n = SSL_write(ssl_, plain.data(), static_cast<int>(std::min<size_t>(plain.size(), 1 << 20)));
    if (n <= 0) {
      error = failure(n, "while encrypting");
      return false;
    }
    plain.remove_prefix(static_cast<size_t>(n));
    drain(out);
  }
  return true;
}

TlsSession::Status TlsSession::decrypt(std::string& plain, std::string& error) {
  ERR_clear_error();
  char buf[16384];
  for (;;) {
    const int n = SSL_read(ssl_, buf, sizeof buf);
    if (n > 0) {
      plain.append(buf, static_cast<size_t>(n));
      continue;
    }
    const int code = SSL_get_error(ssl_, n);
    if (code == SSL_ERROR_WANT_READ || code == SSL_ERROR_WANT_WRITE) return Status::NeedMore;
    if (code == SSL_ERROR_ZERO_RETURN) return Status::Done;
    error = failure(n, "while reading");
    return Status::Failed;
  }
}

void TlsSession::close_notify(std::string& out) {
  if (!SSL_is_init_finished(ssl_)) return;
  SSL_shutdown(ssl_);
  ERR_clear_error();
  drain(out);
}

void send_close_notify(uv_stream_t* stream, TlsSession& tls) {
  std::string alert;
  tls.close_notify(alert);
  if (alert.empty()) return;
  uv_buf_t buf = uv_buf_init(alert.data(), static_cast<unsigned>(alert.size()));
  uv_try_write(stream, &buf, 1);
}

}  // namespace sluice
