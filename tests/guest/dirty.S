/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The test guest: a multiboot (v1) kernel that keeps a chosen working set
 * of RAM dirty, so that convergence is reproducible.
 *
 * QEMU's -kernel loader enters _start in 32-bit flat protected mode with
 * EAX = 0x2BADB002 and EBX pointing at the multiboot information.  The
 * command line (QEMU passes "KERNEL-PATH APPEND") ends in the working set
 * in MiB.  Then, forever, in address order, the guest increments the first
 * 32-bit word of every 4 KiB page in [2 MiB, 2 MiB + working set).  So at
 * any instant every page holds the same counter, except that the pages
 * below the walker hold one more: a pattern a test can verify after
 * migration.  A working set of 0 halts forever (an idle guest).
 *
 * It writes "qmigrate-guest ready\n" to COM1 once the loop starts.
 *
 * Assemble: as --32 dirty.S -o dirty.o && ld -m elf_i386 -Ttext 0x100000
 */

.equ MB_MAGIC, 0x1BADB002
.equ MB_FLAGS, 0x00000000
.equ COM1, 0x3f8
.equ START, 0x200000

    .text
    .code32
    .align 4
multiboot_header:
    .long MB_MAGIC
    .long MB_FLAGS
    .long -(MB_MAGIC + MB_FLAGS)

    .globl _start
_start:
    cli
    movl $stack_top, %esp

    /* ECX = working set in MiB, parsed from the command line's last word. */
    xorl %ecx, %ecx
    testl $4, (%ebx)            /* flags bit 2: cmdline is valid */
    jz parsed
    movl 16(%ebx), %esi         /* the command line, NUL-terminated */
    movl %esi, %edi             /* EDI: start of the current word */
find_end:
    movb (%esi), %al
    testb %al, %al
    jz at_end
    cmpb $' ', %al
    jne 1f
    leal 1(%esi), %edi          /* a new word starts after a space */
1:  incl %esi
    jmp find_end
at_end:
    /* parse decimal digits from EDI; a non-digit ends the number */
parse_digit:
    movzbl (%edi), %eax
    subl $'0', %eax
    cmpl $9, %eax
    ja parsed
    imull $10, %ecx, %ecx
    addl %eax, %ecx
    incl %edi
    jmp parse_digit
parsed:
    movl %ecx, %ebp             /* keep the working set */

    /* say we are alive */
    movl $ready_msg, %esi
print:
    movb (%esi), %al
    testb %al, %al
    jz printed
    movw $COM1, %dx
    outb %al, %dx
    incl %esi
    jmp print
printed:
    testl %ebp, %ebp
    jz idle

    /* EDX = end of the working set: START + MiB * 2^20 */
    movl %ebp, %edx
    shll $20, %edx
    addl $START, %edx
walk:
    movl $START, %eax
page:
    incl (%eax)
    addl $4096, %eax
    cmpl %edx, %eax
    jb page
    jmp walk

idle:
    hlt
    jmp idle

    .data
ready_msg:
    .asciz "qmigrate-guest ready\n"

    .bss
    .align 16
stack:
    .space 4096
stack_top:
