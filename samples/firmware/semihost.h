/* semihost.h - ARM semihosting (bkpt 0xab) output and exit, for QEMU -semihosting. */
#ifndef FW_SEMIHOST_H
#define FW_SEMIHOST_H

/* Writes a NUL-terminated string to the host console (SYS_WRITE0). */
void sh_write0(const char *s);

/* Ends the emulation with exit status `code` (SYS_EXIT_EXTENDED, ADP_Stopped_ApplicationExit). */
void sh_exit(int code) __attribute__((noreturn));

#endif
