/*
 * Tiny, fast HTTP/1.1 upstream for benches/compare.sh.
 *
 *   upstream [-a ADDR] -p PORT [-w WORKERS]
 *
 *   GET /1m  -> 200, 1 MiB body
 *   GET ...  -> 200, small body
 *
 * Single-threaded epoll loop per worker (workers share the port with
 * SO_REUSEPORT), keep-alive by default, closes after answering a request
 * that says "Connection: close" (or HTTP/1.0 without keep-alive). Pipelined
 * requests are answered in order. Request bodies are not supported (the
 * benchmark only sends GETs). It is deliberately minimal: its only job is to
 * never be the bottleneck.
 *
 * Build: gcc -O2 -o upstream benches/upstream.c
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#define INBUF 16384
#define BIG_LEN (1024 * 1024)

static const char small_body[] = "fulcrum bench upstream: hello\n";
static char *big_body;

static char hdr_small_ka[256], hdr_small_close[256];
static char hdr_big_ka[256], hdr_big_close[256];
static size_t hdr_small_ka_len, hdr_small_close_len;
static size_t hdr_big_ka_len, hdr_big_close_len;

struct conn {
    int fd;
    size_t inlen;
    /* pending response */
    const char *hdr;
    size_t hdrlen;
    const char *body;
    size_t bodylen;
    size_t sent;
    int close_after;
    int writing; /* registered for EPOLLOUT instead of EPOLLIN */
    char in[INBUF + 1];
};

static int epfd;

static void die(const char *what)
{
    perror(what);
    exit(1);
}

static void conn_close(struct conn *c)
{
    close(c->fd); /* also removes it from the epoll set */
    free(c);
}

static void set_events(struct conn *c, int writing)
{
    if (c->writing == writing)
        return;
    struct epoll_event ev = {.events = writing ? EPOLLOUT : EPOLLIN, .data.ptr = c};
    if (epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev) < 0)
        die("epoll_ctl mod");
    c->writing = writing;
}

/* Returns 1 when all pending output is sent, 0 when blocked, -1 on error. */
static int flush_out(struct conn *c)
{
    size_t total = c->hdrlen + c->bodylen;
    while (c->sent < total) {
        struct iovec iov[2];
        int n = 0;
        if (c->sent < c->hdrlen) {
            iov[n].iov_base = (char *)c->hdr + c->sent;
            iov[n].iov_len = c->hdrlen - c->sent;
            n++;
            if (c->bodylen) {
                iov[n].iov_base = (char *)c->body;
                iov[n].iov_len = c->bodylen;
                n++;
            }
        } else {
            size_t off = c->sent - c->hdrlen;
            iov[n].iov_base = (char *)c->body + off;
            iov[n].iov_len = c->bodylen - off;
            n++;
        }
        ssize_t w = writev(c->fd, iov, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return 0;
            return -1;
        }
        c->sent += (size_t)w;
    }
    c->hdr = NULL;
    c->hdrlen = c->bodylen = c->sent = 0;
    return 1;
}

/* Parses and answers complete requests in c->in. Returns -1 to close. */
static int process(struct conn *c)
{
    for (;;) {
        if (c->hdrlen) /* still sending the previous response */
            return 0;
        c->in[c->inlen] = '\0';
        char *end = memmem(c->in, c->inlen, "\r\n\r\n", 4);
        if (!end) {
            if (c->inlen >= INBUF)
                return -1; /* request head too large */
            return 0;
        }
        size_t reqlen = (size_t)(end - c->in) + 4;
        end[2] = '\0'; /* terminate the head for the string searches */

        char *sp = memchr(c->in, ' ', reqlen);
        int big = 0;
        if (sp && strncmp(sp + 1, "/1m", 3) == 0 &&
            (sp[4] == ' ' || sp[4] == '?'))
            big = 1;

        char *eol = strstr(c->in, "\r\n");
        int http10 = eol && eol - c->in >= 8 && memcmp(eol - 8, "HTTP/1.0", 8) == 0;
        int close_after;
        if (strcasestr(c->in, "\r\nconnection: close") ||
            strcasestr(c->in, "\r\nconnection:close"))
            close_after = 1;
        else if (http10)
            close_after = !strcasestr(c->in, "\r\nconnection: keep-alive");
        else
            close_after = 0;

        if (big) {
            c->hdr = close_after ? hdr_big_close : hdr_big_ka;
            c->hdrlen = close_after ? hdr_big_close_len : hdr_big_ka_len;
            c->body = big_body;
            c->bodylen = BIG_LEN;
        } else {
            c->hdr = close_after ? hdr_small_close : hdr_small_ka;
            c->hdrlen = close_after ? hdr_small_close_len : hdr_small_ka_len;
            c->body = small_body;
            c->bodylen = sizeof(small_body) - 1;
        }
        c->sent = 0;
        c->close_after = close_after;

        memmove(c->in, c->in + reqlen, c->inlen - reqlen);
        c->inlen -= reqlen;

        int r = flush_out(c);
        if (r < 0)
            return -1;
        if (r == 0) {
            set_events(c, 1);
            return 0;
        }
        if (close_after)
            return -1;
    }
}

static void on_readable(struct conn *c)
{
    for (;;) {
        if (c->inlen >= INBUF)
            break;
        ssize_t r = recv(c->fd, c->in + c->inlen, INBUF - c->inlen, 0);
        if (r > 0) {
            c->inlen += (size_t)r;
            continue;
        }
        if (r == 0) {
            conn_close(c);
            return;
        }
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            break;
        conn_close(c);
        return;
    }
    if (process(c) < 0)
        conn_close(c);
}

static void on_writable(struct conn *c)
{
    int r = flush_out(c);
    if (r < 0 || (r == 1 && c->close_after)) {
        conn_close(c);
        return;
    }
    if (r == 0)
        return;
    set_events(c, 0);
    if (process(c) < 0)
        conn_close(c);
}

static int listen_on(const char *addr, int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        die("socket");
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1) {
        fprintf(stderr, "bad address %s\n", addr);
        exit(2);
    }
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
        die("bind");
    if (listen(fd, 4096) < 0)
        die("listen");
    return fd;
}

static void serve(int lfd)
{
    epfd = epoll_create1(EPOLL_CLOEXEC);
    if (epfd < 0)
        die("epoll_create1");
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
    if (epoll_ctl(epfd, EPOLL_CTL_ADD, lfd, &ev) < 0)
        die("epoll_ctl add listener");

    struct epoll_event evs[256];
    for (;;) {
        int n = epoll_wait(epfd, evs, 256, -1);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            die("epoll_wait");
        }
        for (int i = 0; i < n; i++) {
            struct conn *c = evs[i].data.ptr;
            if (!c) {
                for (;;) {
                    int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
                    if (fd < 0)
                        break; /* EAGAIN, or transient (EMFILE...): retry later */
                    int one = 1;
                    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
                    struct conn *nc = calloc(1, sizeof(*nc));
                    if (!nc) {
                        close(fd);
                        continue;
                    }
                    nc->fd = fd;
                    struct epoll_event cev = {.events = EPOLLIN, .data.ptr = nc};
                    if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &cev) < 0) {
                        close(fd);
                        free(nc);
                    }
                }
                continue;
            }
            if (evs[i].events & (EPOLLERR | EPOLLHUP) && !(evs[i].events & (EPOLLIN | EPOLLOUT))) {
                conn_close(c);
                continue;
            }
            if (c->writing)
                on_writable(c);
            else
                on_readable(c);
        }
    }
}

int main(int argc, char **argv)
{
    const char *addr = "127.0.0.1";
    int port = 0, workers = 1, opt;
    while ((opt = getopt(argc, argv, "a:p:w:")) != -1) {
        switch (opt) {
        case 'a': addr = optarg; break;
        case 'p': port = atoi(optarg); break;
        case 'w': workers = atoi(optarg); break;
        default:
            fprintf(stderr, "usage: %s [-a ADDR] -p PORT [-w WORKERS]\n", argv[0]);
            return 2;
        }
    }
    if (port <= 0 || port > 65535 || workers < 1) {
        fprintf(stderr, "usage: %s [-a ADDR] -p PORT [-w WORKERS]\n", argv[0]);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);

    big_body = malloc(BIG_LEN);
    if (!big_body)
        die("malloc");
    for (size_t i = 0; i < BIG_LEN; i++)
        big_body[i] = "0123456789abcdef"[i & 15];
    big_body[BIG_LEN - 1] = '\n';

    const char *fmt = "HTTP/1.1 200 OK\r\nServer: fulcrum-bench-upstream\r\n"
                      "Content-Type: text/plain\r\nContent-Length: %zu\r\n%s\r\n";
    hdr_small_ka_len = (size_t)snprintf(hdr_small_ka, sizeof(hdr_small_ka), fmt,
                                        sizeof(small_body) - 1, "");
    hdr_small_close_len = (size_t)snprintf(hdr_small_close, sizeof(hdr_small_close), fmt,
                                           sizeof(small_body) - 1, "Connection: close\r\n");
    hdr_big_ka_len = (size_t)snprintf(hdr_big_ka, sizeof(hdr_big_ka), fmt, (size_t)BIG_LEN, "");
    hdr_big_close_len = (size_t)snprintf(hdr_big_close, sizeof(hdr_big_close), fmt,
                                         (size_t)BIG_LEN, "Connection: close\r\n");

    int lfd = listen_on(addr, port);
    /* Workers share the listening socket; the parent serves too. */
    for (int i = 1; i < workers; i++) {
        pid_t pid = fork();
        if (pid < 0)
            die("fork");
        if (pid == 0) {
            prctl(PR_SET_PDEATHSIG, SIGTERM); /* never outlive the parent */
            break;
        }
    }
    serve(lfd);
    return 0;
}
