/* rtmon thr's Java test program: once a line arrives on stdin (EOF starts it at once), starts N named
 * threads ("tp-java-0", ...; odd ones daemon), each sleeping a little; the last renames itself to
 * "tp-java-renamed" while it runs. Joins them all, then prints "thread NAME ID DAEMON" for each.
 * Usage: java -cp build/testprog/java ThreadsProg N */
public class ThreadsProg {
    public static void main(String[] args) throws Exception {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 5;
        Gate.await();
        Thread[] threads = new Thread[n];
        for (int i = 0; i < n; i++) {
            final boolean rename = i == n - 1;
            threads[i] = new Thread(() -> {
                if (rename)
                    Thread.currentThread().setName("tp-java-renamed");
                try {
                    Thread.sleep(20);
                } catch (InterruptedException e) {
                    throw new RuntimeException(e);
                }
            }, "tp-java-" + i);
            threads[i].setDaemon(i % 2 == 1);
            threads[i].start();
        }
        StringBuilder out = new StringBuilder();
        for (Thread t : threads) {
            t.join();
            out.append("thread ").append(t.getName()).append(' ').append(t.getId()).append(' ')
                .append(t.isDaemon()).append('\n');
        }
        System.out.print(out);
        System.out.flush();
    }
}
