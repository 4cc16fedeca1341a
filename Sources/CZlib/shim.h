// zlib: raw DEFLATE for NPZ (zip) members and the CRC-32 zip needs.
#include <zlib.h>
