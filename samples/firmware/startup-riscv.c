/* startup-riscv.c - entry, reset handler and semihosting for RISC-V rv32imc on QEMU virt (-bios
 * none: the CPU starts at 0x80000000, where link-riscv.ld puts `_start`).
 *
 * `_start` (assembly: no stack yet) sets sp to the top of the stack region and gp to the small
 * data anchor, then jumps to Reset_Handler, which does what the Cortex-M one does: paints the
 * stack region with STACK_PAINT (up to just below its own frame), copies .data from flash, zeroes
 * .bss, calls main() and exits QEMU with main's status. fw_stack_peak() finds the high-water mark
 * afterwards. Semihosting is the RISC-V sequence (slli x0, x0, 0x1f; ebreak; srai x0, x0, 7, not
 * compressed) with the Arm operation numbers. */
#include <stdint.h>

#include "semihost.h"

#define STACK_PAINT 0xdeadbeefu

extern uint32_t __data_start__[], __data_end__[], __data_load__[];
extern uint32_t __bss_start__[], __bss_end__[];
extern uint32_t __stack_start__[], __stack_end__[];

int main(void);
void Reset_Handler(void);

__asm__(".section .text.start, \"ax\", @progbits\n"
        ".globl _start\n"
        "_start:\n"
        ".option push\n"
        ".option norelax\n"
        "    la gp, __global_pointer$\n"
        ".option pop\n"
        /* Through t0: `la sp` is auipc + addi, and the auipc leaves sp at a value below the
         * stack's top for one instruction, which the lowest-SP scan of QEMU's register dumps
         * would take for stack use (1,096 B "measured" for a model needing 768). */
        "    la t0, __stack_end__\n"
        "    mv sp, t0\n"
        "    j Reset_Handler\n");

/* Semihosting call: a0 = operation, a1 = argument; returns a0. The three instructions must be
 * 4 bytes each and in this order (QEMU checks them around the ebreak). */
static int semihost(int op, const void *arg)
{
    register int a0 __asm__("a0") = op;
    register const void *a1 __asm__("a1") = arg;
    __asm__ volatile(".option push\n\t.option norvc\n\t.balign 16\n\t"
                     "slli x0, x0, 0x1f\n\tebreak\n\tsrai x0, x0, 7\n\t.option pop"
                     : "+r"(a0)
                     : "r"(a1)
                     : "memory");
    return a0;
}

void sh_write0(const char *s) { (void)semihost(0x04, s); }

void sh_exit(int code)
{
    uint32_t block[2] = {0x20026u, (uint32_t)code}; /* ADP_Stopped_ApplicationExit, status */
    for (;;) (void)semihost(0x20, block);           /* SYS_EXIT_EXTENDED */
}

/* Lowest stack address written since reset: the first word from the bottom that lost the paint. */
uint32_t fw_stack_peak(void)
{
    const volatile uint32_t *p = __stack_start__;
    while (p < __stack_end__ && *p == STACK_PAINT) p++;
    return (uint32_t)((uintptr_t)__stack_end__ - (uintptr_t)p);
}

uint32_t fw_stack_size(void)
{
    return (uint32_t)((uintptr_t)__stack_end__ - (uintptr_t)__stack_start__);
}

void Reset_Handler(void)
{
    uint32_t *sp;
    volatile uint32_t *p;
    const uint32_t *src;
    /* Paint below the current frame; volatile keeps gcc from turning the loops into calls. */
    __asm__ volatile("mv %0, sp" : "=r"(sp));
    for (p = __stack_start__; p < sp - 16; p++) *p = STACK_PAINT;
    for (p = __data_start__, src = __data_load__; p < __data_end__; p++, src++) *p = *src;
    for (p = __bss_start__; p < __bss_end__; p++) *p = 0;
    sh_exit(main());
}
