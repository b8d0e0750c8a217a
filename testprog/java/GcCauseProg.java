/* rtmon gc's test program for GC causes: once a line arrives on stdin (EOF starts it at once), N
 * rounds of MB MiB of short-lived garbage (young collections: "Allocation Failure", "G1 Evacuation
 * Pause") followed by one System.gc() ("System.gc()"); then, with a third argument H, H arrays of 4
 * MiB held together (G1: humongous objects, "G1 Humongous Allocation", and once they fill the heap
 * past G1's threshold a concurrent cycle, whose Remark and Cleanup pauses have no cause).
 * Usage: java -cp build/testprog/java GcCauseProg N MB [H] */
import java.util.ArrayList;
import java.util.List;

public class GcCauseProg {
    static volatile Object sink;

    public static void main(String[] args) throws Exception {
        int n = Integer.parseInt(args[0]);
        long bytes = Long.parseLong(args[1]) << 20;
        int humongous = args.length > 2 ? Integer.parseInt(args[2]) : 0;
        Gate.await();
        for (int i = 0; i < n; i++) {
            for (long b = 0; b < bytes; b += 1024)
                sink = new byte[1000];
            System.gc();
        }
        List<byte[]> big = new ArrayList<>();
        for (int i = 0; i < humongous; i++)
            big.add(new byte[4 << 20]);
        sink = big;
        System.out.println("done");
    }

}
