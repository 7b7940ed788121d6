/* The floor for the wire benchmark: a minimal Unix-socket server that reads one request (to the
 * closing brace at depth 0, or EOF) and answers a fixed reply, one thread per connection.
 * The reply is read from REPLY_FILE: the benchmark gives it the very bytes cpan-bridge answers
 * for the same call, so clients do the same work against both servers.
 * Build: cc -O2 -pthread -o floor floor.c. Run: ./floor /path/to.sock REPLY_FILE */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static char *REPLY;
static size_t REPLY_LEN;

static void *serve(void *arg) {
  int fd = (int)(long)arg;
  char buf[65536];
  int depth = 0, started = 0, in_str = 0, esc = 0, done = 0;
  ssize_t n;
  while (!done && (n = read(fd, buf, sizeof buf)) > 0) {
    for (ssize_t i = 0; i < n && !done; i++) {
      char c = buf[i];
      if (in_str) { if (esc) esc = 0; else if (c == '\\') esc = 1; else if (c == '"') in_str = 0; }
      else if (c == '"') in_str = 1;
      else if (c == '{' || c == '[') { depth++; started = 1; }
      else if (c == '}' || c == ']') { if (--depth == 0 && started) done = 1; }
    }
  }
  size_t off = 0;
  while (off < REPLY_LEN) {
    ssize_t w = write(fd, REPLY + off, REPLY_LEN - off);
    if (w <= 0) break;
    off += (size_t)w;
  }
  close(fd);
  return NULL;
}

int main(int argc, char **argv) {
  if (argc != 3) { fprintf(stderr, "usage: %s SOCKET REPLY_FILE\n", argv[0]); return 64; }
  FILE *f = fopen(argv[2], "rb");
  if (!f) { perror(argv[2]); return 66; }
  fseek(f, 0, SEEK_END);
  REPLY_LEN = (size_t)ftell(f);
  rewind(f);
  REPLY = malloc(REPLY_LEN);
  if (fread(REPLY, 1, REPLY_LEN, f) != REPLY_LEN) { perror("read reply"); return 66; }
  fclose(f);
  signal(SIGPIPE, SIG_IGN);
  int s = socket(AF_UNIX, SOCK_STREAM, 0);
  struct sockaddr_un a = { .sun_family = AF_UNIX };
  strncpy(a.sun_path, argv[1], sizeof a.sun_path - 1);
  unlink(argv[1]);
  if (bind(s, (struct sockaddr *)&a, sizeof a) || listen(s, 1024)) { perror("bind/listen"); return 1; }
  for (;;) {
    int c = accept(s, NULL, NULL);
    if (c < 0) continue;
    pthread_t t;
    pthread_create(&t, NULL, serve, (void *)(long)c);
    pthread_detach(t);
  }
}
