/*
 * The pod sandbox ("pause") process of the real node's containerd: holds the pod's namespaces
 * and does nothing else. Built here, static, because no registry serves registry.k8s.io/pause
 * to the tests. As PID 1 of a pod that shares its process namespace it reaps orphans; SIGINT
 * and SIGTERM end it at once (the runtime stops the sandbox that way).
 */
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static void quit (int sig) { (void)sig; _exit(0); }

static void reap (int sig)
{
  (void)sig;
  while (waitpid(-1, NULL, WNOHANG) > 0) {}
}

int main (void)
{
  struct sigaction stop = { .sa_handler = quit };
  struct sigaction child = { .sa_handler = reap, .sa_flags = SA_NOCLDSTOP | SA_RESTART };
  if (sigaction(SIGINT, &stop, NULL) < 0 || sigaction(SIGTERM, &stop, NULL) < 0 || sigaction(SIGCHLD, &child, NULL) < 0) return 1;
  for (;;) pause();
}
