/*
 * heal_mon_priv.h - what the monitor drivers share and only they (and tests)
 * may see: the monotonic clock in milliseconds (heal_mon.c).
 */
#ifndef HEAL_MON_PRIV_H
#define HEAL_MON_PRIV_H

#include <stdint.h>

uint64_t heal_mon_now_ms(void);

#endif /* HEAL_MON_PRIV_H */
