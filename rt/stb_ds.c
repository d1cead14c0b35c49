/* rt/stb_ds.c - the one translation unit that holds stb_ds's implementation (Debian libstb-dev
 * ships it header-only). Every other file includes <stb_ds.h> for the declarations. */
#define STB_DS_IMPLEMENTATION
#include <stb_ds.h>
