// TLS sessions on memory buffers, client against server, with certificates made here: trust,
// host names, versions and client certificates vary without a network. The client is also run
// against a server written with OpenSSL directly, so the two sides are not only checked against
// each other.
#include "core/tls_session.h"

#include <gtest/gtest.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <string>

#include "support/test_support.h"

namespace sluice {
namespace {

std::string pem_of(int (*write)(BIO*, void*), void* what) {
  BIO* b = BIO_new(BIO_s_mem());
  write(b, what);
  char* data;
  long n = BIO_get_mem_data(b, &data);
  std::string out(data, static_cast<size_t>(n));
  BIO_free(b);
  return out;
}

// A self-signed certificate (its own CA) for `dns_name`, with its key.
struct Identity {
  EVP_PKEY* key = nullptr;
  X509* cert = nullptr;
  Identity(const std::string& dns_name) {
    static long serial = 1;
    key = EVP_EC_gen("P-256");
    cert = X509_new();
    X509_set_version(cert, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert), serial++);
    X509_gmtime_adj(X509_getm_notBefore(cert), -60);
    X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
    X509_set_pubkey(cert, key);
    X509_NAME* name = X509_get_subject_name(cert);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>(dns_name.c_str()), -1, -1, 0);
    X509_set_issuer_name(cert, name);
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
    for (auto [nid, value] : {std::pair{NID_subject_alt_name, "DNS:" + dns_name},
                              std::pair{NID_basic_constraints, std::string("critical,CA:TRUE")}}) {
      X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
      X509_add_ext(cert, ext, -1);
      X509_EXTENSION_free(ext);
    }
    X509_sign(cert, key, EVP_sha256());
  }
  ~Identity() {
    X509_free(cert);
    EVP_PKEY_free(key);
  }
  std::string cert_pem() const {
    return pem_of([](BIO* b, void* x) { return PEM_write_bio_X509(b, static_cast<X509*>(x)); }, cert);
  }
  std::string key_pem() const {
    return pem_of([](BIO* b, void* k) {
      return PEM_write_bio_PrivateKey(b, static_cast<EVP_PKEY*>(k), nullptr, nullptr, 0, nullptr, nullptr);
    }, key);
  }
};

// Files in a temporary directory, each written once under a fresh name.
class TempFiles {
 public:
  std::string write(const std::string& content) {
    const std::string path = dir_.file("f" + std::to_string(count_++));
    sluice::testing::write_file(path, content);
    return path;
  }

 private:
  sluice::testing::TempDir dir_;
  int count_ = 0;
};

// An OpenSSL server on memory buffers, as a Fluentd in_forward with <transport tls> would be.
class Server {
 public:
  Server(const Identity& id, const Identity* client_ca = nullptr, int version = 0) {
    ctx_ = SSL_CTX_new(TLS_server_method());
    SSL_CTX_use_certificate(ctx_, id.cert);
    SSL_CTX_use_PrivateKey(ctx_, id.key);
    if (version) {
      SSL_CTX_set_min_proto_version(ctx_, version);
      SSL_CTX_set_max_proto_version(ctx_, version);
    }
    if (client_ca) {
      X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx_), client_ca->cert);
      SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
    }
    ssl_ = SSL_new(ctx_);
    in_ = BIO_new(BIO_s_mem());
    out_ = BIO_new(BIO_s_mem());
    SSL_set_bio(ssl_, in_, out_);
    SSL_set_accept_state(ssl_);
  }
  ~Server() {
    SSL_free(ssl_);
    SSL_CTX_free(ctx_);
  }
  // Takes the client's bytes, answers; returns what it sends back.
  std::string step(const std::string& from_client) {
    if (!from_client.empty()) BIO_write(in_, from_client.data(), int(from_client.size()));
    char buf[16384];
    int n;
    while ((n = SSL_read(ssl_, buf, sizeof buf)) > 0) plain.append(buf, size_t(n));
    ERR_clear_error();
    return drain();
  }
  std::string send(const std::string& text) {
    SSL_write(ssl_, text.data(), int(text.size()));
    return drain();
  }
  std::string close_notify() {
    SSL_shutdown(ssl_);
    return drain();
  }
  std::string version() const { return SSL_get_version(ssl_); }
  std::string plain;

 private:
  std::string drain() {
    std::string out;
    char buf[16384];
    int n;
    while ((n = BIO_read(out_, buf, sizeof buf)) > 0) out.append(buf, size_t(n));
    return out;
  }
  SSL_CTX* ctx_;
  SSL* ssl_;
  BIO *in_, *out_;
};

// Runs the handshake to its end; the client's last status, with its error.
TlsSession::Status handshake(TlsSession& client, Server& server, std::string& error) {
  std::string to_server;
  for (int round = 0; round < 10; ++round) {
    TlsSession::Status st = client.handshake(to_server, error);
    std::string back = server.step(to_server);
    to_server.clear();
    if (st != TlsSession::Status::NeedMore) return st;
    client.received(back.data(), back.size());
  }
  return TlsSession::Status::NeedMore;
}

class TlsSessionTest : public ::testing::Test {
 protected:
  std::shared_ptr<TlsContext> context(TlsOptions o, TlsRole role = TlsRole::Client) {
    std::string error;
    auto ctx = TlsContext::create(role, o, error);
    EXPECT_TRUE(ctx) << error;
    return ctx;
  }
  Identity server_id{"aggregator.example"};
  TempFiles files;
};

TEST_F(TlsSessionTest, TrustedServerCarriesBytesBothWays) {
  TlsOptions o;
  o.ca_paths = {files.write(server_id.cert_pem())};
  auto ctx = context(o);
  TlsSession client(*ctx, "aggregator.example");
  Server server(server_id);
  std::string error;
  ASSERT_EQ(handshake(client, server, error), TlsSession::Status::Done) << error;
  EXPECT_EQ(server.version(), "TLSv1.2");  // Fluentd's default tls_version

  std::string frame(100000, 'x'), wire;
  ASSERT_TRUE(client.encrypt(frame, wire, error)) << error;
  EXPECT_EQ(wire.find(std::string(64, 'x')), std::string::npos);
  server.step(wire);
  EXPECT_EQ(server.plain, frame);

  std::string ack = server.send("{\"ack\":\"id\"}"), plain;
  client.received(ack.data(), ack.size() / 2);
  EXPECT_EQ(client.decrypt(plain, error), TlsSession::Status::NeedMore);
  EXPECT_EQ(plain, "");
  client.received(ack.data() + ack.size() / 2, ack.size() - ack.size() / 2);
  EXPECT_EQ(client.decrypt(plain, error), TlsSession::Status::NeedMore);
  EXPECT_EQ(plain, "{\"ack\":\"id\"}");

  std::string bye = server.close_notify();
  client.received(bye.data(), bye.size());
  EXPECT_EQ(client.decrypt(plain, error), TlsSession::Status::Done);
}

TEST_F(TlsSessionTest, UntrustedServerIsRefused) {
  auto ctx = context({});  // the system's store only
  TlsSession client(*ctx, "aggregator.example");
  Server server(server_id);
  std::string error;
  EXPECT_EQ(handshake(client, server, error), TlsSession::Status::Failed);
  EXPECT_NE(error.find("certificate verify failed: self-signed certificate"), std::string::npos) << error;
}

TEST_F(TlsSessionTest, ServerNamedOtherwiseIsRefusedUnlessAskedNotToCheck) {
  TlsOptions o;
  o.ca_paths = {files.write(server_id.cert_pem())};
  std::string error;
  {
    auto ctx = context(o);
    TlsSession client(*ctx, "other.example");
    Server server(server_id);
    EXPECT_EQ(handshake(client, server, error), TlsSession::Status::Failed);
    EXPECT_NE(error.find("certificate verify failed: hostname mismatch"), std::string::npos) << error;
  }
  o.verify_hostname = false;
  auto ctx = context(o);
  TlsSession client(*ctx, "other.example");
  Server server(server_id);
  EXPECT_EQ(handshake(client, server, error), TlsSession::Status::Done) << error;
}

TEST_F(TlsSessionTest, AddressesAreNotCheckedAgainstNamesAsInFluentd) {
  TlsOptions o;
  o.ca_paths = {files.write(server_id.cert_pem())};
  auto ctx = context(o);
  TlsSession client(*ctx, "127.0.0.1");
  Server server(server_id);
  std::string error;
  EXPECT_EQ(handshake(client, server, error), TlsSession::Status::Done) << error;
}

TEST_F(TlsSessionTest, InsecureModeTrustsAnyServer) {
  TlsOptions o;
  o.insecure = true;
  auto ctx = context(o);
  TlsSession client(*ctx, "other.example");
  Server server(server_id);
  std::string error;
  EXPECT_EQ(handshake(client, server, error), TlsSession::Status::Done) << error;
}

TEST_F(TlsSessionTest, VersionsAsFluentdSpellsThem) {
  TlsOptions o;
  o.insecure = true;
  std::string error;
  {
    Server server(server_id, nullptr, TLS1_3_VERSION);
    auto ctx = context(o);  // TLSv1_2 only, as Fluentd's default
    TlsSession client(*ctx, "x");
    EXPECT_EQ(handshake(client, server, error), TlsSession::Status::Failed);
    EXPECT_NE(error.find("TLS error in the handshake"), std::string::npos) << error;
  }
  o.version = "TLSv1_3";
  Server server(server_id, nullptr, TLS1_3_VERSION);
  auto ctx = context(o);
  TlsSession client(*ctx, "x");
  EXPECT_EQ(handshake(client, server, error), TlsSession::Status::Done) << error;
  EXPECT_EQ(server.version(), "TLSv1.3");

  o.version = "SSLv3";
  EXPECT_FALSE(TlsContext::create(TlsRole::Client, o, error));
  EXPECT_EQ(error, "unknown TLS version 'SSLv3' (TLSv1_1, TLSv1_2 or TLSv1_3)");
}

TEST_F(TlsSessionTest, ClientCertificateWithPassphrase) {
  Identity client_id("node-1");
  char pass[] = "s3cret-phrase";
  std::string key_pem = pem_of(
      [](BIO* b, void* k) {
        return PEM_write_bio_PKCS8PrivateKey(b, static_cast<EVP_PKEY*>(k), EVP_aes_256_cbc(), nullptr, 0,
                                             nullptr, const_cast<char*>("s3cret-phrase"));
      },
      client_id.key);
  TlsOptions o;
  o.ca_paths = {files.write(server_id.cert_pem())};
  o.cert_path = files.write(client_id.cert_pem());
  o.key_path = files.write(key_pem);
  o.key_passphrase = pass;
  std::string error;
  {
    auto ctx = context(o);
    TlsSession client(*ctx, "aggregator.example");
    Server server(server_id, &client_id);
    EXPECT_EQ(handshake(client, server, error), TlsSession::Status::Done) << error;
  }
  {
    // Without a certificate, this server refuses.
    TlsOptions none = o;
    none.cert_path = none.key_path = "";
    auto ctx = context(none);
    TlsSession client(*ctx, "aggregator.example");
    Server server(server_id, &client_id);
    EXPECT_EQ(handshake(client, server, error), TlsSession::Status::Failed);
  }
  o.key_passphrase = "wrong";
  EXPECT_FALSE(TlsContext::create(TlsRole::Client, o, error));
  EXPECT_EQ(error.rfind("cannot read the private key " + o.key_path + ": a wrong passphrase, or not a PEM key: ", 0), 0u)
      << error;
  EXPECT_EQ(error.find("wrong\""), std::string::npos);
  EXPECT_EQ(error.find(pass), std::string::npos);
}

TEST_F(TlsSessionTest, FilesThatCannotBeReadAreNamed) {
  TlsOptions o;
  std::string error;
  o.ca_paths = {"/nonexistent/ca.pem"};
  EXPECT_FALSE(TlsContext::create(TlsRole::Client, o, error));
  EXPECT_EQ(error, "cannot read the CA certificates in /nonexistent/ca.pem: No such file or directory");
  o.ca_paths = {files.write("not a certificate")};
  EXPECT_FALSE(TlsContext::create(TlsRole::Client, o, error));
  EXPECT_EQ(error.rfind("cannot read the CA certificates in " + o.ca_paths[0] + ": error:", 0), 0u) << error;
  o.ca_paths = {};
  o.cert_path = "/nonexistent/cert.pem";
  EXPECT_FALSE(TlsContext::create(TlsRole::Client, o, error));
  EXPECT_EQ(error, "cannot read the certificate /nonexistent/cert.pem: No such file or directory");
  EXPECT_FALSE(TlsContext::create(TlsRole::Server, {}, error));  // a server needs a certificate
  EXPECT_EQ(error, "cannot read the certificate : No such file or directory");
  o.cert_path = files.write(server_id.cert_pem());
  o.key_path = files.write(Identity("other").key_pem());
  EXPECT_FALSE(TlsContext::create(TlsRole::Server, o, error));
  EXPECT_EQ(error, "the private key " + o.key_path + " does not belong to " + o.cert_path);
}

TEST_F(TlsSessionTest, GarbageFromTheServerFailsTheHandshake) {
  auto ctx = context({});
  TlsSession client(*ctx, "aggregator.example");
  std::string out, error;
  EXPECT_EQ(client.handshake(out, error), TlsSession::Status::NeedMore);
  EXPECT_FALSE(out.empty());  // the ClientHello
  std::string junk = "HTTP/1.1 400 Bad Request\r\n\r\n";
  client.received(junk.data(), junk.size());
  EXPECT_EQ(client.handshake(out, error), TlsSession::Status::Failed);
  EXPECT_NE(error.find("TLS error in the handshake"), std::string::npos) << error;
}

// Both ends are TlsSessions: what in_forward's <transport tls> and out_forward speak together.
TlsSession::Status pair_handshake(TlsSession& client, TlsSession& server, std::string& client_error,
                                  std::string& server_error) {
  std::string to_server, to_client;
  TlsSession::Status c = TlsSession::Status::NeedMore, s = TlsSession::Status::NeedMore;
  for (int round = 0; round < 10 && (c == TlsSession::Status::NeedMore || s == TlsSession::Status::NeedMore);
       ++round) {
    if (c == TlsSession::Status::NeedMore) c = client.handshake(to_server, client_error);
    server.received(to_server.data(), to_server.size());
    to_server.clear();
    if (s == TlsSession::Status::NeedMore) s = server.handshake(to_client, server_error);
    client.received(to_client.data(), to_client.size());
    to_client.clear();
    if (c == TlsSession::Status::Failed || s == TlsSession::Status::Failed) break;
  }
  return c == TlsSession::Status::Failed || s == TlsSession::Status::Failed ? TlsSession::Status::Failed : c;
}

TEST_F(TlsSessionTest, ServerSessionAgainstClientSession) {
  TlsOptions server_options;
  server_options.cert_path = files.write(server_id.cert_pem());
  server_options.key_path = files.write(server_id.key_pem());
  auto server_ctx = context(server_options, TlsRole::Server);
  TlsOptions client_options;
  client_options.ca_paths = {server_options.cert_path};
  auto client_ctx = context(client_options);
  TlsSession client(*client_ctx, "aggregator.example"), server(*server_ctx);
  std::string client_error, server_error;
  ASSERT_EQ(pair_handshake(client, server, client_error, server_error), TlsSession::Status::Done)
      << client_error << " / " << server_error;

  std::string wire, plain;
  ASSERT_TRUE(client.encrypt("PING", wire, client_error));
  server.received(wire.data(), wire.size());
  EXPECT_EQ(server.decrypt(plain, server_error), TlsSession::Status::NeedMore);
  EXPECT_EQ(plain, "PING");
  wire.clear();
  plain.clear();
  ASSERT_TRUE(server.encrypt("PONG", wire, server_error));
  client.received(wire.data(), wire.size());
  EXPECT_EQ(client.decrypt(plain, client_error), TlsSession::Status::NeedMore);
  EXPECT_EQ(plain, "PONG");

  // The client ends the session cleanly: the server reads the end, not an error.
  wire.clear();
  client.close_notify(wire);
  EXPECT_FALSE(wire.empty());
  server.received(wire.data(), wire.size());
  EXPECT_EQ(server.decrypt(plain, server_error), TlsSession::Status::Done) << server_error;
}

TEST_F(TlsSessionTest, ServerAsksForClientCertificates) {
  Identity client_id("node-1"), stranger("node-2");
  TlsOptions server_options;
  server_options.cert_path = files.write(server_id.cert_pem());
  server_options.key_path = files.write(server_id.key_pem());
  server_options.ca_paths = {files.write(client_id.cert_pem())};
  server_options.client_cert_auth = true;
  auto server_ctx = context(server_options, TlsRole::Server);
  auto connect = [&](const Identity* id, std::string& server_error) {
    TlsOptions o;
    o.insecure = true;
    if (id) {
      o.cert_path = files.write(id->cert_pem());
      o.key_path = files.write(id->key_pem());
    }
    auto client_ctx = context(o);
    TlsSession client(*client_ctx, "aggregator.example"), server(*server_ctx);
    std::string client_error;
    return pair_handshake(client, server, client_error, server_error);
  };
  std::string error;
  EXPECT_EQ(connect(&client_id, error), TlsSession::Status::Done) << error;
  EXPECT_EQ(connect(&stranger, error), TlsSession::Status::Failed);
  EXPECT_NE(error.find("certificate verify failed"), std::string::npos) << error;
  EXPECT_EQ(connect(nullptr, error), TlsSession::Status::Failed);
  EXPECT_NE(error.find("TLS error in the handshake"), std::string::npos) << error;
}

}  // namespace
}  // namespace sluice
