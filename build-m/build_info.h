#define RTMON_VERSION "0.1"
#define RTMON_COMMIT "3de2840"
#define RTMON_DOCDIR "/usr/local/share/doc/rtmon"
