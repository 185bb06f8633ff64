/*
 * host.c loads a Fluent Bit Go output plugin the way Fluent Bit's Go proxy
 * does (src/flb_plugin_proxy.c and src/proxy/go/go.c), for tests that need
 * the real calling convention without building Fluent Bit:
 *
 *   1. dlopen (LoadLibrary on Windows) the library;
 *   2. FLBPluginRegister(&def), then check the type, proxy and name it set;
 *   3. look up FLBPluginInit, FLBPluginFlush, FLBPluginFlushCtx,
 *      FLBPluginExit and FLBPluginExitCtx as go.c does;
 *   4. per [OUTPUT] instance: point the one shared flbgo_output_plugin at
 *      the instance (api, o_ins, context) and call FLBPluginInit; the
 *      plugin reads its keys through api->output_get_property, which
 *      serves the instance's properties minus the keys Fluent Bit keeps
 *      for itself (flb_output_set_property);
 *   5. flush chunks (msgpack files) with FLBPluginFlushCtx from two
 *      threads at once, as Workers 2 does;
 *   6. FLBPluginExitCtx for every instance.
 *
 * Usage: host LIBRARY SPEC. The spec has one directive per line:
 *   instance NAME          starts the properties of an instance
 *   KEY VALUE              a property of the last instance
 *   flush THREAD INSTANCE TAG FILE
 *                          a chunk for thread 0 or 1 to flush
 * The host prints "init NAME CODE", "flush NAME FILE CODE" and
 * "exit NAME CODE" lines and exits 0 once every call was made.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ctype.h>

#ifdef _WIN32
#include <windows.h>
typedef HANDLE thread_t;
#define THREAD_FN DWORD WINAPI
static void *lib_open(const char *p) { return (void *) LoadLibraryA(p); }
static void *lib_sym(void *h, const char *s) { return (void *) GetProcAddress((HMODULE) h, s); }
static int thread_start(thread_t *t, LPTHREAD_START_ROUTINE fn, void *arg)
{
    *t = CreateThread(NULL, 0, fn, arg, 0, NULL);
    return *t == NULL;
}
static void thread_join(thread_t t) { WaitForSingleObject(t, INFINITE); CloseHandle(t); }
static void sleep_ms(int ms) { Sleep(ms); }
#else
#include <dlfcn.h>
#include <pthread.h>
#include <time.h>
typedef pthread_t thread_t;
#define THREAD_FN void *
static void *lib_open(const char *p) { return dlopen(p, RTLD_NOW | RTLD_LOCAL); }
static void *lib_sym(void *h, const char *s) { return dlsym(h, s); }
static int thread_start(thread_t *t, void *(*fn)(void *), void *arg) { return pthread_create(t, NULL, fn, arg); }
static void thread_join(thread_t t) { pthread_join(t, NULL); }
static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}
#endif

/* Fluent Bit's constants (fluent-bit-go's flb_plugin.h). */
#define FLB_PROXY_OUTPUT_PLUGIN 2
#define FLB_PROXY_GOLANG 11

/* struct flb_plugin_proxy_def, as flb_plugin_proxy.h has it. */
struct flb_plugin_proxy_def {
    int type;
    int proxy;
    int flags;
    char *name;
    char *description;
};

/* The start of struct flb_api (flb_api.h): the plugin calls only the first. */
struct flb_api {
    const char *(*output_get_property)(const char *, void *);
    const char *(*input_get_property)(const char *, void *);
};

/* struct flb_plugin_proxy_context: remote_context is the plugin's. */
struct flb_plugin_proxy_context {
    void *remote_context;
    void *proxy;
};

/* struct flbgo_output_plugin of go.h; fluent-bit-go reads the first four. */
struct flbgo_output_plugin {
    char *name;
    struct flb_api *api;
    void *o_ins;
    struct flb_plugin_proxy_context *context;
    int (*cb_init)(void *);
    int (*cb_flush)(const void *, size_t, const char *);
    int (*cb_flush_ctx)(void *, const void *, size_t, char *);
    int (*cb_exit)(void);
    int (*cb_exit_ctx)(void *);
};

#define MAX_PROPS 64
#define MAX_INSTANCES 8
#define MAX_FLUSHES 256

struct instance {
    char name[64];
    int nprops;
    char *keys[MAX_PROPS];
    char *values[MAX_PROPS];
    struct flb_plugin_proxy_context ctx;
    int started;
};

struct flush {
    int thread;
    struct instance *ins;
    char tag[128];
    char file[512];
    char *data;
    size_t size;
    int code;
};

static struct instance instances[MAX_INSTANCES];
static int ninstances;
static struct flush flushes[MAX_FLUSHES];
static int nflushes;
static struct flbgo_output_plugin plugin;

/* Keys flb_output_set_property keeps for the engine: a plugin never sees
 * them. */
static int engine_key(const char *k)
{
    static const char *exact[] = {"name", "match", "match_regex", "alias", "host", "port", "ipv6", "retry_limit",
                                  "workers", "tls", "storage.total_limit_size", "log_level", NULL};
    int i;
    for (i = 0; exact[i]; i++) {
        if (strcasecmp(k, exact[i]) == 0) {
            return 1;
        }
    }
    return strncasecmp(k, "tls.", 4) == 0 || strncasecmp(k, "net.", 4) == 0;
}

/* output_get_property: NULL when the instance has no such key, as
 * flb_output_get_property answers. */
static const char *get_property(const char *key, void *o_ins)
{
    struct instance *ins = o_ins;
    int i;
    for (i = 0; i < ins->nprops; i++) {
        if (strcasecmp(ins->keys[i], key) == 0) {
            return ins->values[i];
        }
    }
    return NULL;
}

static struct flb_api api = {get_property, NULL};

static char *read_file(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    long n;
    if (!f) {
        return NULL;
    }
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = malloc(n > 0 ? n : 1);
    if (n > 0 && fread(buf, 1, n, f) != (size_t) n) {
        free(buf);
        fclose(f);
        return NULL;
    }
    fclose(f);
    *size = (size_t) n;
    return buf;
}

static struct instance *find_instance(const char *name)
{
    int i;
    for (i = 0; i < ninstances; i++) {
        if (strcmp(instances[i].name, name) == 0) {
            return &instances[i];
        }
    }
    return NULL;
}

static char *trim(char *s)
{
    char *e;
    while (isspace((unsigned char) *s)) {
        s++;
    }
    e = s + strlen(s);
    while (e > s && isspace((unsigned char) e[-1])) {
        *--e = '\0';
    }
    return s;
}

static int read_spec(const char *path)
{
    FILE *f = fopen(path, "r");
    char line[4096];
    if (!f) {
        fprintf(stderr, "cannot open spec %s\n", path);
        return -1;
    }
    while (fgets(line, sizeof line, f)) {
        char *l = trim(line), *v;
        struct flush *fl;
        char iname[64];
        if (*l == '\0' || *l == '#') {
            continue;
        }
        if (strncmp(l, "instance ", 9) == 0) {
            snprintf(instances[ninstances++].name, 64, "%s", trim(l + 9));
            continue;
        }
        if (strncmp(l, "flush ", 6) == 0) {
            fl = &flushes[nflushes++];
            if (sscanf(l + 6, "%d %63s %127s %511s", &fl->thread, iname, fl->tag, fl->file) != 4 ||
                !(fl->ins = find_instance(iname)) || !(fl->data = read_file(fl->file, &fl->size))) {
                fprintf(stderr, "bad flush line: %s\n", l);
                return -1;
            }
            continue;
        }
        if (ninstances == 0) {
            fprintf(stderr, "property before any instance: %s\n", l);
            return -1;
        }
        v = l + strcspn(l, " \t");
        if (*v) {
            *v++ = '\0';
        }
        v = trim(v);
        if (!engine_key(l)) {
            struct instance *ins = &instances[ninstances - 1];
            ins->keys[ins->nprops] = strdup(l);
            ins->values[ins->nprops++] = strdup(v);
        }
    }
    fclose(f);
    return 0;
}

static THREAD_FN flush_thread(void *arg)
{
    int me = (int) (size_t) arg, i;
    for (i = 0; i < nflushes; i++) {
        struct flush *fl = &flushes[i];
        if (fl->thread != me || !fl->ins->started) {
            continue;
        }
        /* go.c copies the tag into a NUL-terminated buffer of its own. */
        fl->code = plugin.cb_flush_ctx(fl->ins->ctx.remote_context, fl->data, fl->size, fl->tag);
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct flb_plugin_proxy_def def;
    int (*cb_register)(struct flb_plugin_proxy_def *);
    void *lib;
    thread_t threads[2];
    int i, ret;

    if (argc != 3) {
        fprintf(stderr, "usage: host LIBRARY SPEC\n");
        return 2;
    }
    setvbuf(stdout, NULL, _IONBF, 0);
    if (read_spec(argv[2]) != 0) {
        return 2;
    }
    lib = lib_open(argv[1]);
    if (!lib) {
        fprintf(stderr, "cannot load %s\n", argv[1]);
        return 3;
    }
    cb_register = (int (*)(struct flb_plugin_proxy_def *)) lib_sym(lib, "FLBPluginRegister");
    if (!cb_register) {
        fprintf(stderr, "no FLBPluginRegister\n");
        return 3;
    }
    memset(&def, 0, sizeof def);
    ret = cb_register(&def);
    printf("register %d type=%d proxy=%d name=%s\n", ret, def.type, def.proxy, def.name ? def.name : "");
    if (ret != 0 || def.type != FLB_PROXY_OUTPUT_PLUGIN || def.proxy != FLB_PROXY_GOLANG) {
        return 4;
    }
    plugin.name = def.name;
    plugin.cb_init = (int (*)(void *)) lib_sym(lib, "FLBPluginInit");
    plugin.cb_flush = (int (*)(const void *, size_t, const char *)) lib_sym(lib, "FLBPluginFlush");
    plugin.cb_flush_ctx = (int (*)(void *, const void *, size_t, char *)) lib_sym(lib, "FLBPluginFlushCtx");
    plugin.cb_exit = (int (*)(void)) lib_sym(lib, "FLBPluginExit");
    plugin.cb_exit_ctx = (int (*)(void *)) lib_sym(lib, "FLBPluginExitCtx");
    if (!plugin.cb_init || !plugin.cb_flush_ctx || !plugin.cb_exit_ctx) {
        fprintf(stderr, "missing FLBPluginInit, FLBPluginFlushCtx or FLBPluginExitCtx\n");
        return 4;
    }
    plugin.api = &api;

    /* One shared plugin structure, re-pointed at each instance before its
     * init, as proxy_go_output_init does. */
    for (i = 0; i < ninstances; i++) {
        struct instance *ins = &instances[i];
        ins->ctx.remote_context = NULL;
        plugin.o_ins = ins;
        plugin.context = &ins->ctx;
        ret = plugin.cb_init(&plugin);
        ins->started = ret > 0;
        printf("init %s %d\n", ins->name, ret);
    }
    /* Overwrite what init saw: a plugin that kept the pointer would read
     * another instance's keys. */
    plugin.o_ins = NULL;
    plugin.context = NULL;

    for (i = 0; i < 2; i++) {
        if (thread_start(&threads[i], flush_thread, (void *) (size_t) i) != 0) {
            fprintf(stderr, "cannot start thread %d\n", i);
            return 5;
        }
    }
    for (i = 0; i < 2; i++) {
        thread_join(threads[i]);
    }
    for (i = 0; i < nflushes; i++) {
        printf("flush %s %s %d\n", flushes[i].ins->name, flushes[i].file, flushes[i].code);
    }
    for (i = 0; i < ninstances; i++) {
        if (instances[i].started) {
            printf("exit %s %d\n", instances[i].name, plugin.cb_exit_ctx(instances[i].ctx.remote_context));
        }
    }
    sleep_ms(10);
    printf("done\n");
    return 0;
}
