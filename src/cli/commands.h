/* commands.h: the subcommands of the sluice binary. Each returns the process exit status:
 * 0 success, 1 runtime failure, 2 usage or configuration error. */
#ifndef SLUICE_COMMANDS_H
#define SLUICE_COMMANDS_H

int sl_cmd_serve(int argc, char **argv);
int sl_cmd_sim(int argc, char **argv);
int sl_cmd_load(int argc, char **argv);
int sl_cmd_rollout(int argc, char **argv); /* rollout_cmd.c */
int sl_cmd_status(int argc, char **argv);  /* rollout_cmd.c */
int sl_cmd_drift(int argc, char **argv);   /* drift_cmd.c */
int sl_cmd_scan(int argc, char **argv);
int sl_cmd_guard(int argc, char **argv);   /* guard_cmd.c */
int sl_cmd_experiment(int argc, char **argv); /* experiment_cmd.c */

#endif
