// A JSON string's escaped text unescaped 32 bytes at a time (AVX2 or AVX-512), for the flat-object reader:
// docker's `log` values carry a JSON application log's `\"` escapes by the dozen, and reading
// them one escape at a time costs ~30 instructions each.
#pragma once

#include <cstddef>

namespace sluice::parsers {

// Unescapes the string text from p (within a string, not inside an escape) to w while 32 input
// bytes remain, block by block; the two-byte escapes (`\"` `\\` `\/` `\b` `\f` `\n` `\r` `\t`)
// are written as their characters. Stops, leaving p and w there, at the string's closing quote, a
// control byte, a `\u` or invalid escape (for the caller's reader, which reads or declines them),
// or with fewer than 32 bytes left. Writes at most 32 bytes past w's end, never past
// w + (end - p) (the output is never longer than the input). Without AVX2 it returns p.
const unsigned char* unescape_blocks(const unsigned char* p, const unsigned char* end, char*& w);

// How unescape_blocks packs a block: not at all (the caller reads one escape at a time), by
// table shuffles 8 bytes at a time (AVX2), or by one vpcompressb (AVX-512 VBMI2). The best the
// CPU has is chosen at start-up; tests and benchmarks choose the others (false: the CPU lacks it).
enum class Unescaper { OneAtATime, Avx2, Avx512 };
Unescaper unescaper();
bool use_unescaper(Unescaper u);

}  // namespace sluice::parsers
