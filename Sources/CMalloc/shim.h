// glibc's malloc statistics (mallinfo2), which Swift's Glibc module does not export.
#include <malloc.h>
