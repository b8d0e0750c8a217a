/* The command table: each command is one user/CMD.c (and one bpf/CMD.bpf.c). argv[0] is "rtmon
 * CMD". */
#ifndef RTMON_COMMANDS_H
#define RTMON_COMMANDS_H

int cmd_malloc(int argc, char **argv);
int cmd_thr(int argc, char **argv);
int cmd_lat(int argc, char **argv);
int cmd_gc(int argc, char **argv);
int cmd_profile(int argc, char **argv);
int cmd_heap(int argc, char **argv);
int cmd_ps(int argc, char **argv);
int cmd_tree(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_stack(int argc, char **argv);
int cmd_memstats(int argc, char **argv);
int cmd_stats(int argc, char **argv);

#endif
