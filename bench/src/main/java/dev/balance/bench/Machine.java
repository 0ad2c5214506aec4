package dev.balance.bench;

import java.lang.management.ManagementFactory;
import java.util.LinkedHashMap;
import java.util.Map;

/** What a result was measured on, so figures from different machines are never compared blindly. */
record Machine(int cores, long maxHeapBytes, String javaVersion, String javaVm, String os, double loadAverage1m) {

    static Machine current() {
        Runtime runtime = Runtime.getRuntime();
        return new Machine(runtime.availableProcessors(), runtime.maxMemory(), System.getProperty("java.version"),
                System.getProperty("java.vm.name"),
                System.getProperty("os.name") + " " + System.getProperty("os.version") + " " + System.getProperty("os.arch"),
                ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
    }

    Map<String, Object> toMap() {
        Map<String, Object> map = new LinkedHashMap<>();
        map.put("cores", cores);
        map.put("max_heap_mb", maxHeapBytes / (1024 * 1024));
        map.put("java_version", javaVersion);
        map.put("java_vm", javaVm);
        map.put("os", os);
        map.put("load_average_1m_at_start", loadAverage1m);
        return map;
    }
}
