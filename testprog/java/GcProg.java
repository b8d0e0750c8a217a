/* rtmon gc's Java test program: exactly N System.gc() calls once a line arrives on stdin (EOF starts
 * it at once). With -XX:+UseSerialGC and a fixed small heap nothing else collects, and each
 * System.gc() is one full collection. Usage: java -cp build/testprog/java GcProg N */
public class GcProg {
    public static void main(String[] args) throws Exception {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 5;
        Gate.await();
        for (int i = 0; i < n; i++)
            System.gc();
        System.out.println("done");
    }
}
