// TLS over connections whose bytes travel through libuv (the forward plugins' `transport tls`).
// OpenSSL works on memory buffers here: the caller moves the ciphertext between them and its
// socket, so one event loop carries plain and TLS connections alike.
//
//   std::string error;
//   auto ctx = TlsContext::create(TlsRole::Client, options, error);  // once, at start-up
//   TlsSession tls(*ctx, host);           // a server: TlsSession tls(*ctx)
//   tls.handshake(to_send, error);        // the client's hello into to_send
//   tls.received(bytes, n); tls.handshake(to_send, error)   // until Status::Done
//   tls.encrypt(frame, to_send, error);   tls.decrypt(plain, error);
#pragma once

#include <uv.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

typedef struct ssl_ctx_st SSL_CTX;
typedef struct ssl_st SSL;
typedef struct bio_st BIO;

namespace sluice {

enum class TlsRole { Client, Server };

struct TlsOptions {
  std::string version = "TLSv1_2";        // the one version spoken, unless a range is given
  std::string min_version, max_version;  // a range instead
  std::string ciphers = "ALL:!aNULL:!eNULL:!SSLv2";
  // Client: trusted besides the system's store. Server: the CAs a client certificate must chain to.
  std::vector<std::string> ca_paths;
  // Client: an optional client certificate. Server: its certificate (required). PEM; the key may
  // be encrypted with the passphrase.
  std::string cert_path, key_path, key_passphrase;
  // Client only.
  bool insecure = false;           // no verification of the server at all
  bool verify_hostname = true;     // the certificate must name the host (not checked for IPs)
  bool allow_self_signed = false;  // check the signature of a self-signed certificate in the store
  // Server only: clients must present a certificate from ca_paths.
  bool client_cert_auth = false;
};

// What every connection of one plugin shares. A file that cannot be read, an unknown version or a
// key that does not fit its certificate is an error at start-up (the passphrase never appears).
class TlsContext {
 public:
  static std::shared_ptr<TlsContext> create(TlsRole role, const TlsOptions& options, std::string& error);
  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  SSL_CTX* get() const { return ctx_; }
  bool verify_hostname() const { return verify_hostname_; }

 private:
  TlsContext(SSL_CTX* ctx, bool verify_hostname) : ctx_(ctx), verify_hostname_(verify_hostname) {}
  bool load_identity(const TlsOptions& o, std::string& error);
  bool load_identity_files(const TlsOptions& o, std::string& error);

  SSL_CTX* ctx_;
  bool verify_hostname_;
};

// One connection's TLS state.
class TlsSession {
 public:
  enum class Status { Done, NeedMore, Failed };

  // A client connection to `host` (sent as SNI and checked against the certificate).
  TlsSession(const TlsContext& context, const std::string& host);
  // A server connection.
  explicit TlsSession(const TlsContext& context);
  ~TlsSession();
  TlsSession(const TlsSession&) = delete;
  TlsSession& operator=(const TlsSession&) = delete;

  // Ciphertext from the peer.
  void received(const char* data, size_t size);
  // Drives the handshake: what to send next is appended to `out`. Done once it is complete.
  Status handshake(std::string& out, std::string& error);
  // The ciphertext of `plain`, appended to `out`.
  bool encrypt(std::string_view plain, std::string& out, std::string& error);
  // What the peer sent, decrypted so far, appended to `plain`: NeedMore while the session is
  // open, Done when the peer closed it (close_notify), Failed on a TLS error.
  Status decrypt(std::string& plain, std::string& error);
  // The close_notify alert that ends the session cleanly, appended to `out` (once the handshake
  // is done; nothing before).
  void close_notify(std::string& out);

 private:
  void attach(SSL_CTX* ctx);
  void drain(std::string& out);
  std::string failure(int ret, const char* what);

  SSL* ssl_ = nullptr;
  BIO* from_peer_ = nullptr;  // owned by ssl_
  BIO* to_peer_ = nullptr;    // owned by ssl_
};

// Ends a TLS connection cleanly before `stream` is closed: its close_notify is written now if the
// socket takes it at once (uv_try_write; nothing would wait for a queued write on a closing stream).
void send_close_notify(uv_stream_t* stream, TlsSession& tls);

}  // namespace sluice
