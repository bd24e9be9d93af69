/* startup.c - vector table, reset handler and semihosting for the Cortex-M boards under QEMU
 * (mps2-an385/an386/an500/an505, mps3-an547, microbit: Board.swift).
 *
 * Reset_Handler paints the stack region with STACK_PAINT (up to just below its own frame),
 * copies .data from flash, zeroes .bss, calls main() and exits QEMU with main's status.
 * fw_stack_peak() finds the high-water mark afterwards. */
#include <stdint.h>

#include "semihost.h"

#define STACK_PAINT 0xdeadbeefu

extern uint32_t __data_start__[], __data_end__[], __data_load__[];
extern uint32_t __bss_start__[], __bss_end__[];
extern uint32_t __stack_start__[], __stack_end__[];

int main(void);
void Reset_Handler(void);
static void Fault_Handler(void);

/* Semihosting call: r0 = operation, r1 = argument; returns r0. */
static int semihost(int op, const void *arg)
{
    register int r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
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
#if defined(__ARM_FP) || defined(__ARM_FEATURE_MVE)
    /* Built with FPU or Helium instructions (cortex-m55, -mfloat-abi=softfp): grant full access
     * to coprocessors 10 and 11 (CPACR, 0xE000ED88) before any code could use them. */
    *(volatile uint32_t *)0xE000ED88u |= 0xFu << 20;
    __asm__ volatile("dsb\n\tisb" ::: "memory");
#endif
    __asm__ volatile("mov %0, sp" : "=r"(sp));
    for (p = __stack_start__; p < sp - 16; p++) *p = STACK_PAINT;
    for (p = __data_start__, src = __data_load__; p < __data_end__; p++, src++) *p = *src;
    for (p = __bss_start__; p < __bss_end__; p++) *p = 0;
    sh_exit(main());
}

static void Fault_Handler(void)
{
    sh_write0("{\"record\":\"error\",\"what\":\"fault\",\"status\":\"HardFault, MemManage, "
              "BusFault or UsageFault\"}\n");
    sh_exit(3);
}

static void Default_Handler(void)
{
    sh_write0("{\"record\":\"error\",\"what\":\"fault\",\"status\":\"unexpected exception\"}\n");
    sh_exit(3);
}

/* Cortex-M core exceptions (4-6 are reserved on Armv6-M); the peripherals' interrupts are not
 * used. */
__attribute__((section(".vectors"), used)) static void (*const vectors[16])(void) = {
    (void (*)(void))(uintptr_t)__stack_end__, /* initial SP */
    Reset_Handler,
    Default_Handler, /* NMI */
    Fault_Handler,   /* HardFault */
    Fault_Handler,   /* MemManage */
    Fault_Handler,   /* BusFault */
    Fault_Handler,   /* UsageFault */
    0,
    0,
    0,
    0,
    Default_Handler, /* SVCall */
    Default_Handler, /* DebugMonitor */
    0,
    Default_Handler, /* PendSV */
    Default_Handler, /* SysTick */
};
