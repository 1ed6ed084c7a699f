/*
 * The pieces of Syncthing's checked base32 form (see proto.h, devid.c)
 * that device ids and recovery phrases share. Private to proto/.
 */
#ifndef SATCHEL_CHECKED32_H
#define SATCHEL_CHECKED32_H

#include <stddef.h>
#include <stdint.h>

/* RFC 4648's base32 alphabet. */
extern const char proto_b32[];
/* A character's value in the alphabet, or -1. Lower case is read as upper
 * case, and 0, 1, 8 as the letters they are mistaken for. */
int	proto_b32_value(char c);
/* The Luhn mod 32 check value of n values of 0 to 31. */
int	proto_luhn32(const uint8_t *v, size_t n);

#endif
