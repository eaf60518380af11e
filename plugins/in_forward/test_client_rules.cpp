// <security> <client> rules: which peer addresses a host or network covers.
#include <gtest/gtest.h>

#include "forward_handshake.h"

namespace sluice::forward {
namespace {

ClientRule rule(const std::string& text) {
  ClientRule r;
  EXPECT_TRUE(parse_network(text, r)) << text;
  return r;
}

TEST(ClientRule, NetworksCoverTheirAddressesOnly) {
  EXPECT_TRUE(rule("10.0.0.0/8").covers("10.255.1.2"));
  EXPECT_FALSE(rule("10.0.0.0/8").covers("11.0.0.1"));
  EXPECT_TRUE(rule("192.168.4.0/23").covers("192.168.5.200"));
  EXPECT_FALSE(rule("192.168.4.0/23").covers("192.168.6.1"));
  EXPECT_TRUE(rule("127.0.0.1").covers("127.0.0.1"));
  EXPECT_FALSE(rule("127.0.0.1").covers("127.0.0.2"));
  EXPECT_TRUE(rule("0.0.0.0/0").covers("8.8.8.8"));
  EXPECT_TRUE(rule("fd00::/8").covers("fd12:3456::1"));
  EXPECT_FALSE(rule("fd00::/8").covers("fe80::1"));
  // Families do not mix (as Ruby's IPAddr#include?), nor do names.
  EXPECT_FALSE(rule("0.0.0.0/0").covers("::1"));
  EXPECT_FALSE(rule("::/0").covers("127.0.0.1"));
  EXPECT_FALSE(rule("10.0.0.0/8").covers("not-an-address"));
}

TEST(ClientRule, MalformedNetworksAreRefused) {
  ClientRule r;
  for (const char* bad : {"10.0.0.0/33", "10.0.0.0/", "10.0.0.0/x", "10.0.0/8", "fd00::/129",
                          "host.example", "10.0.0.0/0008", ""})
    EXPECT_FALSE(parse_network(bad, r)) << bad;
}

}  // namespace
}  // namespace sluice::forward
